/**
 * Soak: a realistic tenant mix for long runs. TENANTS tenants, each with ROOMS rooms of
 * ROOM_SIZE users, under three concurrent scenarios:
 *   rest_writes  POST /v1/rooms/{id}/messages (tenant key + X-User-Id, Idempotency-Key), open model
 *   rest_reads   GET rooms / room history / me / rate-limit, open model
 *   chat         CHAT_USERS WebSocket users: typing.start, then a message.send every
 *                ~CHAT_INTERVAL s; they measure delivery latency of their rooms' messages
 * Thresholds: no 5xx, < 1% failed requests (429 counts as failed: the mix stays under each
 * tenant's limit), read p95 < READ_P95_MS (200), write p95 < WRITE_P95_MS (300), delivery
 * p95 < LAT_P95_MS (250), no WebSocket errors or unexpected closes, no lost own-room messages.
 * Run:  k6 run -e MASTER_KEY=... -e DURATION=600 load/k6/mixed.ts
 * Every scenario must also record samples (a run that measured nothing fails).
 * Env:  BASE_URL, WS_URL, DURATION (600 s), TENANTS (2), ROOMS (10), ROOM_SIZE (10),
 *       WRITE_RATE (20/s), READ_RATE (40/s), CHAT_USERS (50), CHAT_INTERVAL (5 s),
 *       TENANT_RATE (1000/s: each tenant's limit and burst, far above the mix, so set-up and
 *       the mix never meet 429)
 */
import http from 'k6/http';
import { check } from 'k6';
import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { clearInterval, setInterval, setTimeout } from 'k6/timers';
import { createRoom, createTenant, createUser, mintToken, runId, type Tenant } from './lib/api.ts';
import { BASE_URL, num } from './lib/env.ts';
import { ChatSocket, type Frame } from './lib/ws.ts';

const DURATION = num('DURATION', 600);
const TENANTS = num('TENANTS', 2);
const ROOMS = num('ROOMS', 10);
const ROOM_SIZE = num('ROOM_SIZE', 10);
const WRITE_RATE = num('WRITE_RATE', 20);
const READ_RATE = num('READ_RATE', 40);
const CHAT_USERS = Math.min(num('CHAT_USERS', 50), TENANTS * ROOMS * ROOM_SIZE);
const CHAT_INTERVAL = num('CHAT_INTERVAL', 5);
const TENANT_RATE = num('TENANT_RATE', 1000);

const latency = new Trend('delivery_latency', true);
const wsErrors = new Counter('ws_errors');
const serverErrors = new Counter('server_errors');
// Samples per scenario: each gets a 0 in setup, so a scenario that recorded nothing fails its threshold.
const writes = new Counter('samples_rest_writes');
const readSamples = new Counter('samples_rest_reads');
const delivered = new Counter('samples_chat_deliveries');

const openModel = (exec: string, rate: number) => ({
  executor: 'constant-arrival-rate' as const, exec, rate, timeUnit: '1s', duration: `${DURATION}s`,
  preAllocatedVUs: Math.max(2, Math.ceil(rate / 5)), maxVUs: Math.max(10, rate * 4),
});

export const options: Options = {
  setupTimeout: '300s',
  scenarios: {
    rest_writes: openModel('restWrite', WRITE_RATE),
    rest_reads: openModel('restRead', READ_RATE),
    chat: { executor: 'per-vu-iterations', exec: 'chat', vus: CHAT_USERS, iterations: 1, maxDuration: `${DURATION + 60}s` },
  },
  thresholds: {
    server_errors: ['count==0'],
    http_req_failed: ['rate<0.01'],
    'http_req_duration{kind:read}': [`p(95)<${num('READ_P95_MS', 200)}`],
    'http_req_duration{kind:write}': [`p(95)<${num('WRITE_P95_MS', 300)}`],
    delivery_latency: [`p(95)<${num('LAT_P95_MS', 250)}`],
    ws_errors: ['count==0'],
    checks: ['rate>0.99'],
    samples_rest_writes: ['count>0'],
    samples_rest_reads: ['count>0'],
    samples_chat_deliveries: ['count>0'],
  },
  summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
};

interface TenantData { tenant: Tenant; users: string[]; rooms: string[]; tokens: string[] }
interface Data { tenants: TenantData[] }

export function setup(): Data {
  for (const samples of [writes, readSamples, delivered]) samples.add(0);
  const id = runId();
  const chatPerTenant = Math.ceil(CHAT_USERS / TENANTS);
  const settings = { rate_limit_per_second: TENANT_RATE, rate_limit_burst: TENANT_RATE };
  return {
    tenants: Array.from({ length: TENANTS }, (_, t) => {
      const tenant = createTenant(`k6 mixed ${id} ${t}`, settings);
      const users = Array.from({ length: ROOMS * ROOM_SIZE }, (_, i) => createUser(tenant, `m-${id}-${t}-${i}`));
      const rooms = Array.from({ length: ROOMS }, (_, r) =>
        createRoom(tenant, users[r * ROOM_SIZE], users.slice(r * ROOM_SIZE + 1, (r + 1) * ROOM_SIZE), `mixed ${r}`));
      const tokens = users.slice(0, chatPerTenant).map((u) => mintToken(tenant, u));
      return { tenant, users, rooms, tokens };
    }),
  };
}

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];

/** A random member of a random room of a random tenant. */
function someone(data: Data) {
  const t = pick(data.tenants);
  const r = Math.floor(Math.random() * ROOMS);
  const user = t.users[r * ROOM_SIZE + Math.floor(Math.random() * ROOM_SIZE)];
  return { t, room: t.rooms[r], headers: { 'X-API-Key': t.tenant.apiKey, 'X-User-Id': user, 'Content-Type': 'application/json' } };
}

function record(res: { status: number }): void {
  if (res.status >= 500) serverErrors.add(1);
}

export function restWrite(data: Data): void {
  const { room, headers } = someone(data);
  const res = http.post(`${BASE_URL}/v1/rooms/${room}/messages`, JSON.stringify({ content: `rest|${Date.now()}` }), {
    headers: { ...headers, 'Idempotency-Key': `${exec.vu.idInTest}-${exec.scenario.iterationInTest}-${runId()}` },
    tags: { kind: 'write', name: 'POST /v1/rooms/{id}/messages' },
  });
  record(res);
  writes.add(1);
  check(res, { 'message stored (201)': (r) => r.status === 201 });
}

export function restRead(data: Data): void {
  const { room, headers } = someone(data);
  const reads: [string, string][] = [
    ['/v1/rooms?limit=20', 'GET /v1/rooms'],
    [`/v1/rooms/${room}/messages?limit=50`, 'GET /v1/rooms/{id}/messages'],
    ['/v1/me', 'GET /v1/me'],
    ['/v1/rate-limit', 'GET /v1/rate-limit'],
  ];
  const [path, name] = pick(reads);
  const res = http.get(`${BASE_URL}${path}`, { headers, tags: { kind: 'read', name } });
  record(res);
  readSamples.add(1);
  check(res, { 'read ok (200)': (r) => r.status === 200 });
}

export function chat(data: Data): void {
  // This scenario's own counter (0 … CHAT_USERS-1): vu.idInTest is shared by every scenario.
  const i = exec.scenario.iterationInTest;
  const t = data.tenants[i % TENANTS];
  const slot = Math.floor(i / TENANTS);
  const token = t.tokens[slot];
  const room = t.rooms[Math.floor(slot / ROOM_SIZE) % ROOMS];
  let closing = false;
  let n = 0;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const connectedAt = Date.now(); // replayed history is not live delivery: not timed
  const socket = new ChatSocket({
    token,
    resume: {},
    onSynced: () => {
      ticker = setInterval(() => {
        if (closing) return;
        socket.send({ type: 'typing.start', room_id: room });
        setTimeout(() => {
          if (closing) return;
          n++;
          socket.send({ type: 'message.send', room_id: room, content: `ws|${Date.now()}`, client_msg_id: `${exec.vu.idInTest}-${n}-${runId()}` });
        }, 300 + Math.random() * 700);
      }, CHAT_INTERVAL * 1000);
    },
    onFrame: (f: Frame) => {
      if (f.type === 'message.created') {
        const [kind, sent] = String(f.message?.content ?? '').split('|');
        if ((kind === 'ws' || kind === 'rest') && Number(sent) >= connectedAt) {
          latency.add(Date.now() - Number(sent), { via: kind });
          delivered.add(1);
        }
      } else if (f.type === 'error') wsErrors.add(1, { code: String(f.code) });
    },
    onError: () => wsErrors.add(1, { code: 'socket' }),
    onClose: () => { if (!closing) wsErrors.add(1, { code: 'closed' }); },
  });
  // The iteration ends when no timer is left: stop the sender's interval with the socket.
  setTimeout(() => {
    closing = true;
    if (ticker !== undefined) clearInterval(ticker);
    socket.close();
  }, DURATION * 1000);
}
