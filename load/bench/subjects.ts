/**
 * The servers the fan-out benchmark compares, each started in its own child process:
 *   uws-raw  — minimal uWebSockets.js topic publish (the ceiling)
 *   ws-loop  — minimal `ws` server looping over room members
 *   chatapi  — the real WebSocket node: real tenant, users, tokens, rooms; messages through the
 *              real send path (frames in chatapi-protocol.ts)
 *   soketi   — Soketi 1.6.1 (Pusher protocol on uWebSockets.js), installed on demand into
 *              load/bench/.soketi/; rooms are private channels, messages client events
 */
import { fileURLToPath } from 'node:url';
import { type ChildServer, startChild } from '../lib/processes.ts';
import type { FanoutTarget } from './fanout.ts';
import { startChatapiSubject } from './chatapi-subject.ts';
import { startSoketiSubject } from './soketi-subject.ts';

export type SubjectName = 'chatapi' | 'uws-raw' | 'ws-loop' | 'soketi';
export const SUBJECTS: SubjectName[] = ['chatapi', 'uws-raw', 'ws-loop', 'soketi'];

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

async function rawSubject(name: 'uws-raw' | 'ws-loop'): Promise<Subject> {
  const start = () => startChild(here(`./servers/${name}.ts`), [], { ...process.env });
  let layoutNo = 0;
  const subject: Subject = {
    name,
    server: await start(),
    async layout(rooms, size) {
      const ns = `L${layoutNo++}`;
      const server = subject.server;
      return {
        name, pid: server.pid, port: server.wsPort, markerOnly: false,
        member: (room) => ({ path: `/?room=${ns}-${room}` }),
        sendFrame: (_room, text) => text,
      };
    },
    async restart() {
      await subject.server.stop();
      subject.server = await start();
    },
    stop: () => subject.server.stop(),
  };
  return subject;
}

export async function startSubject(name: SubjectName): Promise<Subject> {
  if (name === 'chatapi') return startChatapiSubject();
  if (name === 'soketi') return startSoketiSubject();
  return rawSubject(name);
}
