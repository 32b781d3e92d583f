/**
 * Graceful drain: every connection is told `server.shutdown` and takes no new frames (they get
 * SERVICE_UNAVAILABLE); frames already being handled finish, so each send is acked or errored,
 * never cut in half. Bounded by the shutdown timeout, with a margin left for closing.
 */
import type { Conn } from './conn.ts';
import type { WsContext } from './context.ts';
import { settled } from './dispatch.ts';
import { encode } from './frames.ts';

/** Clients spread their reconnects over this window instead of arriving all at once. */
const RECONNECT_SPREAD_MS = 2000;

export async function drain(ctx: WsContext, conns: Set<Conn>, timeoutMs: number): Promise<void> {
  for (const conn of conns) {
    if (conn.phase === 'ready' || conn.phase === 'connecting') conn.phase = 'draining';
    const reconnect_after_ms = 250 + Math.floor(Math.random() * RECONNECT_SPREAD_MS);
    ctx.router.send(conn, encode({ type: 'server.shutdown', reconnect_after_ms }));
  }
  const deadline = Math.max(100, timeoutMs - 1000);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadline)));
  await Promise.race([Promise.allSettled([...conns].map(settled)), timeout]);
  clearTimeout(timer);
}
