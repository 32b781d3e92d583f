/**
 * Settings every scenario reads from the environment (`k6 run -e NAME=value` or exported vars).
 * Load goes to the local machine only: targets other than 127.0.0.1/localhost are refused.
 */
export function env(name: string, fallback: string): string {
  const v = __ENV[name];
  return v === undefined || v === '' ? fallback : v;
}

export function num(name: string, fallback: number): number {
  const raw = env(name, String(fallback));
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${raw}"`);
  return n;
}

function loopback(url: string, name: string): string {
  const m = /^(https?|wss?):\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/.*)?$/.exec(url);
  if (!m) throw new Error(`${name}=${url}: load traffic goes to 127.0.0.1 only`);
  // `make run` prints the URLs with /v1 (and /v1/ws); the scripts add those themselves: accept both.
  return url.replace(/\/+$/, '').replace(/\/v1(\/ws)?$/, '');
}

export const BASE_URL = loopback(env('BASE_URL', 'http://127.0.0.1:8080'), 'BASE_URL');
export const WS_URL = loopback(env('WS_URL', `ws://127.0.0.1:${env('WS_PORT', '8081')}`), 'WS_URL');
export const MASTER_KEY = env('MASTER_KEY', '');
