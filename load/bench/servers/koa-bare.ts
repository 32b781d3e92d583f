/**
 * HTTP benchmark subject `koa-bare`: Koa + koa-bodyparser answering a JSON POST with the
 * envelope: the floor every chatapi REST number is compared to. With `--limiter` the chatapi
 * rate-limit middleware (memory, a limit nobody reaches) runs before body parsing, so the
 * difference is the limiter's cost.
 */
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import { createTenantLimiter } from '../../../src/ratelimit/index.ts';
import { rateLimitMiddleware } from '../../../src/ratelimit/middleware.ts';

const app = new Koa();
if (process.argv.includes('--limiter')) {
  const limiter = await createTenantLimiter({ prefix: 'bench:', log: { info() {}, warn() {} } });
  const limits = { rate: 1_000_000, burst: 1_000_000 };
  app.use(rateLimitMiddleware(limiter, (ctx) => {
    const key = ctx.get('X-API-Key');
    return key ? { tenantId: key, limits } : null;
  }));
}
app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '64kb' }));
app.use((ctx) => {
  ctx.status = 201;
  ctx.body = { success: true, data: { echo: (ctx.request as { body?: unknown }).body ?? null }, error: null };
});

const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ type: 'ready', httpPort: address && typeof address !== 'string' ? address.port : 0 });
});
server.keepAliveTimeout = 65_000;
process.on('disconnect', () => process.exit(0));
process.on('message', (m: { type?: string }) => { if (m?.type === 'stop') process.exit(0); });
