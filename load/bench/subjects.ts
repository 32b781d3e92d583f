/**
 * The servers the fan-out benchmark compares, each started in its own child process:
 *   uws-raw  — minimal uWebSockets.js topic publish (the ceiling)
 *   ws-loop  — minimal `ws` server looping over room members
 *   uws-durable — uws-raw with chatapi's durable store in front of each publish (the floor for a
 *              durable send: chatapi's send batch on SQLite, synchronous=FULL; servers/uws-durable.ts)
 *   uws-contract — uws-durable plus the per-send work chatapi's AsyncAPI contract asks for, done
 *              directly (chatapi's frames parsed and validated, a token bucket, a message.ack
 *              carrying the message; servers/uws-durable.ts --contract): the contract floor
 *   chatapi  — the real WebSocket node: real tenant, users, tokens, rooms; messages through the
 *              real send path (frames in chatapi-protocol.ts)
 *   soketi   — Soketi 1.6.1 (Pusher protocol on uWebSockets.js), installed on demand into
 *              load/bench/.soketi/; rooms are private channels, messages client events
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChildServer, startChild } from '../lib/processes.ts';
import type { FanoutTarget } from './fanout.ts';
import { startChatapiSubject } from './chatapi-subject.ts';
import { startSoketiSubject } from './soketi-subject.ts';

export type SubjectName = 'chatapi' | 'uws-raw' | 'ws-loop' | 'soketi' | 'uws-durable' | 'uws-contract';
export const SUBJECTS: SubjectName[] = ['chatapi', 'uws-raw', 'ws-loop', 'soketi', 'uws-contract', 'uws-durable'];
/** The floors of a durable send (uws-durable, uws-contract): measured in the fan-out scenarios only. */
export const FANOUT_ONLY: SubjectName[] = ['uws-contract', 'uws-durable'];

export interface Subject {
  name: SubjectName;
  server: ChildServer;
  /** a target for `rooms` rooms of `size` members (chatapi creates them through the API) */
  layout(rooms: number, size: number): Promise<FanoutTarget>;
  /** a fresh server process (each run measures memory on a clean process); set-up is kept */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Writes what a layout needs on the server before its members connect (uws-durable: users, rooms, memberships). */
type Prepare = (server: ChildServer, ns: string, rooms: number, size: number) => Promise<void>;

/**
 * A minimal server of servers/: members connect to `/?room=<layout>-<room>`; with `prepare`, the
 * layout is written first and each member also names its index (`&m=<index>`).
 */
async function rawSubject(name: 'uws-raw' | 'ws-loop' | 'uws-durable' | 'uws-contract', prepare?: Prepare): Promise<Subject> {
  const contract = name === 'uws-contract'; // the floor's server with --contract: chatapi's frames, acks and errors
  // A floor's database outlives its process, as chatapi's does across run.ts's restarts: each run
  // stores into a file that holds the earlier runs' messages (a fresh file made the floors' later
  // runs cheaper than chatapi's, load/README § "Issue 12, twentieth round").
  const dbDir = prepare ? mkdtempSync(join(tmpdir(), `chatapi-${name}-`)) : undefined;
  const env = { ...process.env, ...(dbDir ? { FLOOR_DB_DIR: dbDir } : {}) };
  const start = () => startChild(here(`./servers/${contract ? 'uws-durable' : name}.ts`), contract ? ['--contract'] : [], env);
  // A layout keeps its rooms across runs, as chatapi's does (chatapi-subject.ts): each run stores
  // into rooms that already hold the earlier runs' messages. The server writes a layout once and
  // finds it again after a restart (servers/uws-durable.ts).
  const layouts = new Map<string, string>();
  const subject: Subject = {
    name,
    server: await start(),
    async layout(rooms, size) {
      const shape = `${rooms}x${size}`;
      let ns = layouts.get(shape);
      if (ns === undefined) layouts.set(shape, (ns = `L${layouts.size}`));
      const server = subject.server;
      await prepare?.(server, ns, rooms, size);
      const member = prepare ? (room: number, index: number) => ({ path: `/?room=${ns}-${room}&m=${index}` }) : (room: number) => ({ path: `/?room=${ns}-${room}` });
      if (contract) {
        const nonce = randomUUID().slice(0, 8); // client_msg_ids stay unique across runs into the same rooms
        return {
          name, pid: server.pid, port: server.wsPort, markerOnly: true, deliveryTag: '"message.created"', errorTag: '"type":"error"', member,
          sendFrame: (room, text, key) => `{"type":"message.send","room_id":"${ns}-${room}","content":"${text}","client_msg_id":"${nonce}-${key}"}`,
        };
      }
      return { name, pid: server.pid, port: server.wsPort, markerOnly: false, member, sendFrame: (_room, text) => text };
    },
    async restart() {
      await subject.server.stop();
      subject.server = await start();
    },
    async stop() {
      await subject.server.stop();
      if (dbDir) rmSync(dbDir, { recursive: true, force: true });
    },
  };
  return subject;
}

/** uws-durable's layout: its users, rooms and memberships, written by the server (over IPC) before anyone connects. */
const writeDurableLayout: Prepare = ({ child }, ns, rooms, size) => new Promise<void>((resolve, reject) => {
  const onMessage = (m: { type?: string; ns?: string }) => {
    if (m?.type === 'layout-ready' && m.ns === ns) { child.off('message', onMessage); child.off('exit', onExit); resolve(); }
  };
  const onExit = () => reject(new Error('uws-durable exited while writing the layout'));
  child.on('message', onMessage);
  child.once('exit', onExit);
  child.send({ type: 'layout', ns, rooms, size });
});

export async function startSubject(name: SubjectName): Promise<Subject> {
  if (name === 'chatapi') return startChatapiSubject();
  if (name === 'soketi') return startSoketiSubject();
  if (name === 'uws-durable' || name === 'uws-contract') return rawSubject(name, writeDurableLayout);
  return rawSubject(name);
}
