/** The named failure counters the sign-in flows share (limits from config, one set per domain). */
import type { AttemptLimiter } from './attempts.ts';
import type { Ctx } from './context.ts';

export interface Throttles {
  /** Failed logins per `${tenant}:${username}`. */
  loginUser: AttemptLimiter;
  /** Failed credential attempts per client IP (logins, codes, invite passwords). */
  ip: AttemptLimiter;
  /** Registrations and guest logins per client IP per hour (each costs a hash or a row). */
  signup: AttemptLimiter;
  /** Emailed codes per (room, email) per minute: resend throttle. */
  codeSend: AttemptLimiter;
  /** Emailed codes per client IP per hour. */
  codeSendIp: AttemptLimiter;
  /** Wrong invite passwords per `${invite}:${ip}` and per invite. */
  invitePassword: AttemptLimiter;
}

const cache = new WeakMap<Ctx, Throttles>();

export function throttles(ctx: Ctx): Throttles {
  let t = cache.get(ctx);
  if (!t) {
    const window = ctx.config.authFailureWindowSeconds ?? 900;
    const make = ctx.attempts;
    t = {
      loginUser: make('login-user', { points: ctx.config.loginFailuresPerUser ?? 5, windowSeconds: window }),
      ip: make('auth-ip', { points: ctx.config.authFailuresPerIp ?? 100, windowSeconds: window }),
      signup: make('signup-ip', { points: ctx.config.signupsPerIpPerHour ?? 100, windowSeconds: 3600 }),
      codeSend: make('code-send', { points: 1, windowSeconds: 60 }),
      codeSendIp: make('code-send-ip', { points: 30, windowSeconds: 3600 }),
      invitePassword: make('invite-password', { points: 5, windowSeconds: window }),
    };
    cache.set(ctx, t);
  }
  return t;
}

/** The longest wait any of the (limiter, key) pairs asks for; 0 when none is over its limit. */
export async function blockedFor(pairs: [AttemptLimiter, string][]): Promise<number> {
  const waits = await Promise.all(pairs.map(([l, k]) => l.blockedForMs(k)));
  return Math.max(0, ...waits);
}
