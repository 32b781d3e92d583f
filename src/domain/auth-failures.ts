/**
 * Refused credentials (wrong master key, API key, publishable key, token) counted per client IP.
 * Only refusals are counted and checked, so a valid credential from the same address is never
 * slowed; past the limit a refusal answers RATE_LIMIT_EXCEEDED with the wait instead of 401.
 */
import { tooManyAttempts } from './attempts.ts';
import type { Ctx } from './context.ts';
import { throttles } from './throttles.ts';
import type { Domain } from './types.ts';

export function authFailuresApi(ctx: Ctx): Domain['authFailures'] {
  return {
    async refused(ip) {
      const t = throttles(ctx);
      const wait = await t.ip.blockedForMs(ip);
      if (wait) throw tooManyAttempts(wait, 'Too many failed credential attempts from this address');
      await t.ip.fail(ip);
    },
  };
}
