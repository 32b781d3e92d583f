/**
 * Live delivery: ROOMS rooms of ROOM_SIZE WebSocket users; in each room SENDERS members send
 * MESSAGES messages each at MSG_RATE per second (WebSocket `message.send`); every member checks
 * it received every message of its room exactly once and in `seq` order, and measures
 * send→receive latency (sender's clock = receiver's clock: one k6 process).
 * Thresholds: every member complete, nothing out of order or duplicated, no error frames or
 * unexpected closes, every send acknowledged, latency p95 < LAT_P95_MS (250) and
 * p99 < LAT_P99_MS (1000), every member reported and every delivery counted (ROOMS × ROOM_SIZE ×
 * SENDERS × MESSAGES: a run that measured nothing fails).
 * Run:  k6 run -e MASTER_KEY=... load/k6/fanout.ts
 * Env:  BASE_URL, WS_URL (ws://127.0.0.1:8081), ROOMS (10), ROOM_SIZE (20), SENDERS (1),
 *       MSG_RATE (2), MESSAGES (60), AUTH (token|ticket), START_DELAY (s, auto), DRAIN (10 s)
 */
import { Counter, Rate, Trend } from 'k6/metrics';
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { setInterval, clearInterval, setTimeout } from 'k6/timers';
import { createRoom, createTenant, createUser, mintToken, realtimeTicket, runId, type Tenant } from './lib/api.ts';
import { num, env } from './lib/env.ts';
import { ChatSocket, type Frame } from './lib/ws.ts';

const ROOMS = num('ROOMS', 10);
const ROOM_SIZE = num('ROOM_SIZE', 20);
const SENDERS = Math.min(num('SENDERS', 1), ROOM_SIZE);
const MSG_RATE = num('MSG_RATE', 2);
const MESSAGES = num('MESSAGES', 60);
const AUTH = env('AUTH', 'token');
const DRAIN = num('DRAIN', 10);
const USERS = ROOMS * ROOM_SIZE;
// everyone connects before the first send: generous for large runs
const START_DELAY = num('START_DELAY', 5 + Math.ceil(USERS / 200));
const SEND_SECONDS = MESSAGES / MSG_RATE;

const latency = new Trend('delivery_latency', true);
const complete = new Rate('member_complete');
const missing = new Counter('messages_missing');
const outOfOrder = new Counter('messages_out_of_order');
const errors = new Counter('ws_errors');
const unacked = new Counter('sends_unacked');
const lateReady = new Counter('members_ready_late');
// One per member that reported (0 added in setup): a run where members crashed before reporting fails.
const reported = new Counter('members_reported');
// Every message.created a member counted (0 added in setup): the summary shows the deliveries.
const deliveries = new Counter('deliveries');

export const options: Options = {
  setupTimeout: `${60 + Math.ceil(USERS / 20)}s`,
  scenarios: {
    members: {
      executor: 'per-vu-iterations', vus: USERS, iterations: 1,
      maxDuration: `${START_DELAY + SEND_SECONDS + DRAIN + 30}s`,
    },
  },
  thresholds: {
    member_complete: ['rate==1'],
    messages_missing: ['count==0'],
    messages_out_of_order: ['count==0'],
    ws_errors: ['count==0'],
    sends_unacked: ['count==0'],
    delivery_latency: [`p(95)<${num('LAT_P95_MS', 250)}`, `p(99)<${num('LAT_P99_MS', 1000)}`],
    members_reported: [`count==${USERS}`],
    deliveries: [`count==${USERS * SENDERS * MESSAGES}`],
  },
  summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
};

interface Data { tenant: Tenant; users: string[]; tokens: string[]; rooms: string[]; startAt: number }

export function setup(): Data {
  reported.add(0);
  deliveries.add(0);
  const id = runId();
  // enough headroom that the tenant's own limit never shapes this scenario
  const tenant = createTenant(`k6 fanout ${id}`, { rate_limit_per_second: 100_000, rate_limit_burst: 100_000 });
  const users = Array.from({ length: USERS }, (_, i) => createUser(tenant, `f-${id}-${i}`));
  const tokens = AUTH === 'ticket' ? [] : users.map((u) => mintToken(tenant, u));
  const rooms = Array.from({ length: ROOMS }, (_, r) =>
    createRoom(tenant, users[r * ROOM_SIZE], users.slice(r * ROOM_SIZE + 1, (r + 1) * ROOM_SIZE), `fanout ${r}`));
  return { tenant, users, tokens, rooms, startAt: Date.now() + START_DELAY * 1000 };
}

export default function member(data: Data): void {
  const i = exec.scenario.iterationInTest; // 0 … USERS-1 (one iteration per VU)
  const room = data.rooms[Math.floor(i / ROOM_SIZE)];
  const sender = i % ROOM_SIZE < SENDERS;
  const expected = SENDERS * MESSAGES;
  const seen = new Set<string>();
  let lastSeq = 0;
  let received = 0;
  let acked = 0;
  let synced = false;
  const socket = new ChatSocket({
    token: data.tokens[i],
    ticket: AUTH === 'ticket' ? realtimeTicket(data.tenant, data.users[i]) : undefined,
    resume: { [room]: 0 }, // fresh room: replay covers anyone who connects late
    onSynced: () => {
      synced = true;
      if (Date.now() > data.startAt) lateReady.add(1);
      if (sender) setTimeout(startSending, Math.max(0, data.startAt - Date.now()));
    },
    onFrame: (f: Frame) => {
      if (f.type === 'message.created' && f.room_id === room) onMessage(f.message);
      else if (f.type === 'message.ack') acked++;
      else if (f.type === 'error') errors.add(1, { code: String(f.code) });
    },
    onError: () => errors.add(1, { code: 'socket' }),
    onClose: () => { if (!closing) errors.add(1, { code: 'closed' }); },
  });
  let closing = false;
  // bounded: every member reports and closes at the same planned time, synced or not
  setTimeout(finish, Math.max(0, data.startAt - Date.now()) + (SEND_SECONDS + DRAIN) * 1000);

  function onMessage(m: { id: string; seq: number; content: string }): void {
    if (seen.has(m.id)) { outOfOrder.add(1, { kind: 'duplicate' }); return; }
    seen.add(m.id);
    received++;
    deliveries.add(1);
    if (m.seq !== lastSeq + 1) outOfOrder.add(1);
    lastSeq = m.seq;
    const sentAt = Number(m.content.split('|')[2]);
    if (synced && sentAt >= data.startAt) latency.add(Date.now() - sentAt);
  }

  function startSending(): void {
    let n = 0;
    const timer = setInterval(() => {
      n++;
      socket.send({ type: 'message.send', room_id: room, content: `k6|${n}|${Date.now()}`, client_msg_id: `${i}-${n}` });
      if (n >= MESSAGES) clearInterval(timer);
    }, 1000 / MSG_RATE);
  }

  function finish(): void {
    if (closing) return;
    if (!synced) errors.add(1, { code: 'never_synced' });
    complete.add(received === expected);
    if (received < expected) missing.add(expected - received);
    if (sender && acked < MESSAGES) unacked.add(MESSAGES - acked);
    reported.add(1);
    closing = true;
    socket.close();
  }
}
