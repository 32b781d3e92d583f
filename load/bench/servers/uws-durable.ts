/**
 * Benchmark subject `uws-durable`: the durable floor (issue 12). uws-raw's topic publish with
 * chatapi's own store in front of it, and nothing else: every text frame is a message that is
 * stored by chatapi's send batch (src/store/sqlite-append.ts, the same code and schema, on SQLite
 * with synchronous=FULL: its WAL sync off the loop, wal-sync.ts), one batch in flight, up to
 * MAX_BATCH sends each, and only after its commit is published to the room as a `message.created`
 * frame built like chatapi's (the sender's own copy is its acknowledgement). What it leaves out is
 * what chatapi does around that: authentication, frame parsing and validation, rate limits, the
 * separate `message.ack`, sequencing across nodes, presence and the rest. So chatapi's figures
 * divided by these say how much of its distance to uws-raw is the durable store on this machine,
 * and how much is its own work.
 *
 * The parent sends {type:'layout', ns, rooms, size} before connecting a layout: the tenant's users,
 * rooms and memberships are written then (a sender must be a member, as the send gate checks).
 * Members connect to `/?room=<ns>-<room>&m=<index>`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import uWS from 'uWebSockets.js';
import { sha256 } from '../../../src/sha256.ts';
import { MAX_BATCH, type AppendRequest, type AppendResult } from '../../../src/store/append-types.ts';
import { closeDatabase, migrate, openDatabase } from '../../../src/store/db.ts';
import type { Outcome } from '../../../src/store/group-commit.ts';
import { uuidv7 } from '../../../src/store/ordered-id.ts';
import { runSqliteBatch } from '../../../src/store/sqlite-append.ts';

if (!('SSLApp' in uWS)) {
  console.error('uws-durable: the native uWebSockets.js binary did not load (JS fallback refused)');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'chatapi-uws-durable-'));
const knex = await openDatabase(`sqlite:${join(dir, 'floor.db')}`, { sqliteSynchronous: 'FULL' });
await migrate(knex);
const TENANT = 'floor-tenant';
const now = () => Date.now();
await knex('tenants').insert({ id: TENANT, name: 'floor', api_key_hash: 'x'.repeat(64), jwt_secret: 'x', settings: '{}', created_at: now(), updated_at: now() });

/** room name (`<ns>-<room>`) → room id */
const roomIds = new Map<string, string>();

async function layout(ns: string, rooms: number, size: number): Promise<void> {
  await knex.transaction(async (trx) => {
    for (let r = 0; r < rooms; r++) {
      const id = uuidv7();
      const users = Array.from({ length: size }, (_, m) => `${ns}-${r}-${m}`);
      await trx.batchInsert('users', users.map((u) => ({ tenant_id: TENANT, id: u, username: u, role: 'user', permissions: '{}', created_at: now(), updated_at: now() })), 100);
      await trx('rooms').insert({ id, tenant_id: TENANT, type: 'group', name: `${ns}-${r}`, created_by: users[0], last_seq: 0, created_at: now(), updated_at: now() });
      await trx.batchInsert('room_members', users.map((u, m) => ({ tenant_id: TENANT, room_id: id, user_id: u, role: m === 0 ? 'owner' : 'member', joined_at: now() })), 100);
      roomIds.set(`${ns}-${r}`, id);
    }
  });
}

interface Data { topic: string; roomId: string; userId: string; keys: number }
interface Queued { req: AppendRequest; topic: string }

const queue: Queued[] = [];
let scheduled = false;
let inFlight = false;

function schedule(): void {
  if (scheduled || inFlight || queue.length === 0) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    void flush(queue.splice(0, MAX_BATCH));
  });
}

async function flush(batch: Queued[]): Promise<void> {
  inFlight = true;
  let outcomes: Outcome<AppendResult>[];
  try {
    outcomes = await runSqliteBatch(knex, batch.map((q) => q.req));
  } catch (err) {
    console.error('uws-durable: a batch failed', err);
    process.exit(1);
  }
  inFlight = false;
  outcomes.forEach((o, i) => {
    if (!('value' in o) || !o.value) {
      console.error(`uws-durable: a send was refused: ${'err' in o ? String(o.err) : 'not a member'}`);
      process.exit(1);
    }
    const r = o.value;
    const message = {
      id: r.id, room_id: r.room_id, seq: r.seq, sender_id: r.sender_id, content: r.content, meta: null,
      client_msg_id: r.client_msg_id, created_at: new Date(r.created_at).toISOString(), edited_at: null, deleted_at: null,
    };
    app.publish(batch[i]!.topic, JSON.stringify({ type: 'message.created', room_id: r.room_id, message }), false);
  });
  schedule();
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
  message: (ws, data) => {
    const d = ws.getUserData();
    const content = Buffer.from(data).toString();
    queue.push({
      topic: d.topic,
      req: {
        msg: {
          id: uuidv7(), tenant_id: TENANT, room_id: d.roomId, sender_id: d.userId, content, meta: null,
          client_msg_id: `k${++d.keys}`, body_hash: sha256(`{"content":${JSON.stringify(content)},"meta":null}`, 'hex'), edited_at: null, deleted_at: null,
        },
        now,
      },
    });
    schedule();
  },
});

app.listen('127.0.0.1', 0, (listenSocket) => {
  if (!listenSocket) { console.error('uws-durable: listen failed'); process.exit(1); }
  process.send?.({ type: 'ready', port: uWS.us_socket_local_port(listenSocket) });
});

const stop = async () => {
  await closeDatabase(knex).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('disconnect', () => void stop());
process.on('message', (m: { type?: string; ns?: string; rooms?: number; size?: number }) => {
  if (m?.type === 'stop') void stop();
  if (m?.type === 'layout') {
    layout(m.ns!, m.rooms!, m.size!).then(
      () => process.send?.({ type: 'layout-ready', ns: m.ns }),
      (err: unknown) => { console.error(`uws-durable: layout failed: ${String(err).slice(0, 300)}`); process.exit(1); },
    );
  }
});
