/**
 * Benchmark subject `uws-durable`: the durable floor (issue 12). uws-raw's topic publish with
 * chatapi's own store in front of it, and nothing else: every text frame is a message that is
 * stored by chatapi's durable send (store.appendMessage: its group commit and SQLite batch, the same
 * code and schema, synchronous=FULL with the WAL sync off the loop), and only after its commit is
 * published to the room as a `message.created` frame built as chatapi builds it (messageOut; the
 * sender's own copy is its acknowledgement). What it leaves out is
 * what chatapi does around that: authentication, frame parsing and validation, rate limits, the
 * separate `message.ack`, sequencing across nodes, presence and the rest. So chatapi's figures
 * divided by these say how much of its distance to uws-raw is the durable store on this machine,
 * and how much is its own work.
 *
 * The parent sends {type:'layout', ns, rooms, size} before connecting a layout: the tenant's users,
 * rooms and memberships are written then (a sender must be a member, as the send gate checks), or
 * found by name when an earlier process on the same file (FLOOR_DB_DIR) wrote them.
 * Members connect to `/?room=<ns>-<room>&m=<index>`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import uWS from 'uWebSockets.js';
import { messageOut } from '../../../src/domain/mappers.ts';
import { bodyHash, MAX_CONTENT } from '../../../src/domain/messages.ts';
import { checkText } from '../../../src/domain/validate.ts';
import { MemoryBuckets } from '../../../src/ratelimit/memory.ts';
import { encode, encodeAck, encodeMessageEvent, type FrameProblem, parseClientFrame, sendEcho } from '../../../src/ws/frames.ts';
import { closeDatabase, migrate, openDatabase } from '../../../src/store/db.ts';
import { appendMessage } from '../../../src/store/messages.ts';
import { uuidv7 } from '../../../src/store/ordered-id.ts';

if (!('SSLApp' in uWS)) {
  console.error('uws-durable: the native uWebSockets.js binary did not load (JS fallback refused)');
  process.exit(2);
}

// FLOOR_DB_DIR (subjects.ts): a file kept across this subject's restarts, holding the earlier runs'
// layouts and messages, as chatapi's database does; without it a file of this process's own.
const kept = process.env.FLOOR_DB_DIR;
const dir = kept ?? mkdtempSync(join(tmpdir(), 'chatapi-uws-durable-'));
const knex = await openDatabase(`sqlite:${join(dir, 'floor.db')}`, { sqliteSynchronous: 'FULL' });
await migrate(knex);
const TENANT = 'floor-tenant';
const now = () => Date.now();
await knex('tenants').insert({ id: TENANT, name: 'floor', api_key_hash: 'x'.repeat(64), jwt_secret: 'x', settings: '{}', created_at: now(), updated_at: now() })
  .onConflict('id').ignore();

/** This process's part of the plain floor's client_msg_ids: a layout's rooms and senders outlive the process. */
const NONCE = randomUUID().slice(0, 8);

/** room name (`<ns>-<room>`) → room id */
const roomIds = new Map<string, string>();

async function layout(ns: string, rooms: number, size: number): Promise<void> {
  // A layout written by an earlier process on this file (subjects.ts keeps a layout's rooms across
  // runs, as chatapi's are): its rooms are found by name, and their messages stay.
  const written = await knex('rooms').where('tenant_id', TENANT).whereLike('name', `${ns}-%`).select('id', 'name') as { id: string; name: string }[];
  if (written.length === rooms) {
    for (const r of written) roomIds.set(r.name, r.id);
    return;
  }
  if (written.length > 0) fail('layout', `${written.length} of ${rooms} rooms of ${ns} found`);
  await knex.transaction(async (trx) => {
    for (let r = 0; r < rooms; r++) {
      // Random, as chatapi's room ids are (domain/rooms.ts, tickets.ts). Time-ordered ids made in
      // one burst put the rooms a batch holds side by side in the (room_id, …) indexes: the harness
      // keeps a batch's rooms together from batch to batch, and a batch then dirtied about 412 WAL
      // pages instead of 555 (load/README § "Issue 12, nineteenth round").
      const id = randomUUID();
      const users = Array.from({ length: size }, (_, m) => `${ns}-${r}-${m}`);
      await trx.batchInsert('users', users.map((u) => ({ tenant_id: TENANT, id: u, username: u, role: 'user', permissions: '{}', created_at: now(), updated_at: now() })), 100);
      await trx('rooms').insert({ id, tenant_id: TENANT, type: 'group', name: `${ns}-${r}`, created_by: users[0], last_seq: 0, created_at: now(), updated_at: now() });
      await trx.batchInsert('room_members', users.map((u, m) => ({ tenant_id: TENANT, room_id: id, user_id: u, role: m === 0 ? 'owner' : 'member', joined_at: now() })), 100);
      roomIds.set(`${ns}-${r}`, id);
    }
  });
}

interface Data { topic: string; roomId: string; userId: string; keys: number; closed?: boolean }

/**
 * `--contract` (subject `uws-contract`): the floor plus the per-send work the AsyncAPI contract
 * itself asks for, written as directly as it can be: the frame parsed and validated by chatapi's
 * generated validator (ws/frames.ts), its room checked against the connection's, its content
 * checked, the tenant's token bucket (chatapi's MemoryBuckets), the connection's sends stored as
 * one run (as chatapi groups them), and a separate `message.ack` carrying the message, written
 * with the sender's `message.created` in one write. What it still leaves out is chatapi's
 * architecture: the per-connection pipeline and admission, the domain layer, the bus and the
 * per-room sequencer, metrics, presence. So chatapi's distance to it is what that architecture
 * costs, and its own distance to uws-raw is what a durable send under this contract costs on this machine.
 */
const contract = process.argv.includes('--contract');
const buckets = new MemoryBuckets();
const LIMITS = { rate: 1e9, burst: 1e9 };

/** Fails the subject loudly: a floor that dropped a send would measure less than it should. */
function fail(what: string, err: unknown): never {
  console.error(`uws-durable: ${what}: ${String(err).slice(0, 300)}`);
  process.exit(1);
}

const app = uWS.App().ws<Data>('/*', {
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 64 * 1024 * 1024,
  idleTimeout: 0,
  upgrade: (res, req, context) => {
    const q = new URLSearchParams(req.getQuery() ?? '');
    const topic = q.get('room') ?? '';
    const roomId = roomIds.get(topic);
    if (!roomId) {
      res.writeStatus('404 Not Found').end('no such room: send the layout first');
      return;
    }
    res.upgrade<Data>({ topic, roomId, userId: `${topic}-${q.get('m') ?? '0'}`, keys: 0 }, req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  },
  open: (ws) => { ws.subscribe(ws.getUserData().topic); },
  message: (ws, data) => onSend(ws, Buffer.from(data).toString()),
  close: (ws) => { ws.getUserData().closed = true; },
});

function floorSend(ws: uWS.WebSocket<Data>, content: string): void {
  const d = ws.getUserData();
  const msg = {
    id: uuidv7(), tenant_id: TENANT, room_id: d.roomId, sender_id: d.userId, content, meta: null,
    client_msg_id: `${NONCE}-${++d.keys}`, body_hash: bodyHash(content, null), edited_at: null, deleted_at: null,
  };
  // Resolved after the batch's commit, all of a batch in one turn: uWS writes each member's frames of it together.
  appendMessage(knex, msg, now).then((row) => {
    if (!row) fail('a send was refused', 'not a member');
    app.publish(d.topic, JSON.stringify({ type: 'message.created', room_id: row.room_id, message: messageOut(row) }), false);
  }, (err: unknown) => fail('a send failed', err));
}

/** An `error` frame for a send the contract refuses (module-level: a named closure per send costs a defineProperty under tsx, keep-names.ts). */
function refuse(ws: uWS.WebSocket<Data>, problem: FrameProblem): void {
  ws.send(encode({ type: 'error', ...problem }));
}

function contractSend(ws: uWS.WebSocket<Data>, text: string): void {
  const d = ws.getUserData();
  const parsed = parseClientFrame(text);
  if (!parsed.ok) return refuse(ws, parsed.problem);
  if (parsed.frame.type !== 'message.send') return refuse(ws, { code: 'VALIDATION_ERROR', message: 'not a send', frame: parsed.frame.type });
  const frame = parsed.frame;
  if (roomIds.get(frame.room_id) !== d.roomId) return refuse(ws, { ...sendEcho(frame), code: 'NOT_FOUND', message: 'Room not found' });
  if (!buckets.consume(TENANT, LIMITS).allowed) return refuse(ws, { ...sendEcho(frame), code: 'RATE_LIMIT_EXCEEDED', message: 'Rate limit exceeded' });
  let content: string;
  try {
    content = checkText('content', frame.content, MAX_CONTENT);
  } catch (err) {
    return refuse(ws, { ...sendEcho(frame), code: 'VALIDATION_ERROR', message: (err as Error).message });
  }
  const msg = {
    id: uuidv7(), tenant_id: TENANT, room_id: d.roomId, sender_id: d.userId, content, meta: null,
    client_msg_id: frame.client_msg_id, body_hash: bodyHash(content, null), edited_at: null, deleted_at: null,
  };
  appendMessage(knex, msg, now, undefined, undefined, false, d).then((row) => {
    if (!row) fail('a send was refused', 'not a member');
    const message = messageOut(row);
    const created = encodeMessageEvent('message.created', row.room_id, message);
    if (d.closed) return void app.publish(d.topic, created, false);
    // The others get it by the topic (ws.publish skips the sender); the sender's ack and its copy wait for the turn's end, in one write.
    ws.publish(d.topic, created, false);
    let frames = outgoing.get(ws);
    if (!frames) outgoing.set(ws, (frames = []));
    frames.push(encodeAck(frame.client_msg_id, true, message, frame.ref), created);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushOutgoing);
    }
  }, (err: unknown) => fail('a send failed', err));
}

/** A sender's acks and copies of one turn, one write per sender (as chatapi joins them: router.sendAck). One sender per room (the harness's saturated runs): no other member's frame can fall between. */
const outgoing = new Map<uWS.WebSocket<Data>, Buffer[]>();
let flushScheduled = false;
function flushOutgoing(): void {
  flushScheduled = false;
  for (const [ws, frames] of outgoing) {
    if (!ws.getUserData().closed) ws.cork(() => { for (const f of frames) ws.send(f, false); });
  }
  outgoing.clear();
}

const onSend = contract ? contractSend : floorSend;

app.listen('127.0.0.1', 0, (listenSocket) => {
  if (!listenSocket) { console.error('uws-durable: listen failed'); process.exit(1); }
  process.send?.({ type: 'ready', port: uWS.us_socket_local_port(listenSocket) });
});

const stop = async () => {
  await closeDatabase(knex).catch(() => {});
  if (!kept) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('disconnect', () => void stop());
process.on('message', (m: { type?: string; ns?: string; rooms?: number; size?: number }) => {
  if (m?.type === 'stop') void stop();
  if (m?.type === 'layout') {
    layout(m.ns!, m.rooms!, m.size!).then(
      () => process.send?.({ type: 'layout-ready', ns: m.ns }),
      (err: unknown) => fail('layout failed', err),
    );
  }
});
