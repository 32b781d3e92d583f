/**
 * Senders for the crash-durability suite: REST senders (one request at a time, Idempotency-Key)
 * and WebSocket senders (a window of message.send frames in flight, client_msg_id). Each records
 * what was acknowledged (key → room, seq, id) and what was sent but never answered, so that after
 * a crash the unanswered sends can be retried with the same key and the store checked.
 */
import { apiClient } from '../helpers/client.ts';
import { WsClient } from '../helpers/ws-client.ts';

export interface Send { key: string; roomId: string; content: string; via: 'rest' | 'ws'; user: string }
export interface Ack { seq: number; id: string; /** false: a repeat answered with the original */ created?: boolean }

export interface Ledger {
  acked: Map<string, Ack & Send>;
  /** Sent, no answer (the node died, or it answered an error): to retry with the same key. */
  unanswered: Map<string, Send>;
  /** Why senders stopped (for failure messages). */
  stops: string[];
}

export const newLedger = (): Ledger => ({ acked: new Map(), unanswered: new Map(), stops: [] });

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SenderSpec {
  user: string;
  headers: Record<string, string>;
  rooms: string[];
  prefix: string;
  random: () => number;
  ledger: Ledger;
  /** Set when the sender should stop (the node died). */
  stopped: () => boolean;
}

const nextSend = (s: SenderSpec, n: number, via: Send['via']): Send => {
  const key = `${s.prefix}-${n}`;
  return { key, roomId: s.rooms[Math.floor(s.random() * s.rooms.length)]!, content: `content of ${key}`, via, user: s.user };
};

/** Sends one message at a time over REST until a request fails (the node is gone) or stopped. */
export async function restSender(base: string, s: SenderSpec): Promise<void> {
  const client = apiClient(base, s.headers);
  for (let n = 0; !s.stopped(); n++) {
    const send = nextSend(s, n, 'rest');
    s.ledger.unanswered.set(send.key, send);
    const ack = await restSend(client, send).catch((err: Error) => void s.ledger.stops.push(`${s.prefix}: ${err.message}`));
    if (!ack) return;
    s.ledger.unanswered.delete(send.key);
    s.ledger.acked.set(send.key, { ...send, ...ack });
  }
}

export async function restSend(client: ReturnType<typeof apiClient>, send: Send): Promise<Ack | undefined> {
  const res = await client.POST('/v1/rooms/{room_id}/messages', {
    params: { path: { room_id: send.roomId }, header: { 'Idempotency-Key': send.key } }, body: { content: send.content },
  });
  if (res.response.status !== 201 && res.response.status !== 200) throw new Error(`${send.key} answered ${res.response.status}: ${JSON.stringify(res.error)}`);
  return { seq: res.data!.data.seq, id: res.data!.data.id, created: res.response.status === 201 };
}

/** Keeps `window` message.send frames in flight until the socket closes or stopped. */
export async function wsSender(url: string, s: SenderSpec, window = 16): Promise<void> {
  const c = await WsClient.connect(url, { headers: s.headers, label: s.prefix });
  await c.first('connected');
  const inFlight = new Map<string, Send>();
  let wake: () => void = () => {};
  let closed = false;
  void c.closed.then(() => { closed = true; wake(); });
  c.socket.on('message', (data: Buffer) => {
    const f = JSON.parse(data.toString()) as { type: string; client_msg_id?: string; message?: { seq: number; id: string } };
    if ((f.type !== 'message.ack' && f.type !== 'error') || !f.client_msg_id || !inFlight.has(f.client_msg_id)) return;
    const send = inFlight.get(f.client_msg_id)!;
    inFlight.delete(f.client_msg_id);
    if (f.type === 'message.ack') {
      s.ledger.unanswered.delete(send.key);
      s.ledger.acked.set(send.key, { ...send, seq: f.message!.seq, id: f.message!.id });
    }
    wake();
  });
  for (let n = 0; !closed && !s.stopped();) {
    if (inFlight.size >= window) {
      await new Promise<void>((resolve) => (wake = resolve));
      continue;
    }
    const send = nextSend(s, n++, 'ws');
    inFlight.set(send.key, send);
    s.ledger.unanswered.set(send.key, send);
    c.send({ type: 'message.send', room_id: send.roomId, content: send.content, client_msg_id: send.key });
  }
  s.ledger.stops.push(`${s.prefix}: ${closed ? `socket closed ${(await c.closed).code}` : 'stopped'}`);
  if (!closed) await c.close();
  c.assertValid();
}

/** Retries one unanswered send with its original key over a fresh WebSocket. */
export async function wsRetry(url: string, headers: Record<string, string>, sends: Send[]): Promise<Map<string, Ack>> {
  const acks = new Map<string, Ack>();
  if (sends.length === 0) return acks;
  const c = await WsClient.connect(url, { headers, label: 'retry' });
  await c.first('connected');
  for (const send of sends) c.send({ type: 'message.send', room_id: send.roomId, content: send.content, client_msg_id: send.key });
  const keys = new Set(sends.map((x) => x.key));
  await c.waitUntil(() => c.all('message.ack').filter((a) => keys.has(a.client_msg_id)).length === keys.size
    || c.all('error').some((e) => e.client_msg_id && keys.has(e.client_msg_id)), 30_000);
  const refused = c.all('error').filter((e) => e.client_msg_id && keys.has(e.client_msg_id));
  if (refused.length) throw new Error(`retries refused: ${JSON.stringify(refused.slice(0, 3))}`);
  for (const a of c.all('message.ack')) if (keys.has(a.client_msg_id)) acks.set(a.client_msg_id, { seq: a.message.seq, id: a.message.id, created: a.created });
  await c.close();
  return acks;
}
