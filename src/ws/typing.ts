/**
 * Typing indicators with server-side expiry: `typing.start` announces `started` once and arms a
 * timer that each refresh re-arms; `typing.stop`, the timer (TYPING_TTL_MS without a refresh) or
 * the connection closing announce `stopped`. An indicator therefore cannot stick.
 */
import type { Bus } from '../bus/index.ts';
import type { Conn } from './conn.ts';

interface Typist {
  conn: Conn;
  timer: NodeJS.Timeout;
}

export class Typing {
  /** tenant \n room \n user → who is typing there from this node. */
  private readonly typists = new Map<string, Typist>();

  constructor(private readonly bus: Bus, private readonly ttlMs: number) {}

  start(conn: Conn, roomId: string): void {
    const key = keyOf(conn, roomId);
    const typist = this.typists.get(key);
    if (typist) {
      typist.conn = conn;
      typist.timer.refresh();
      return;
    }
    this.typists.set(key, { conn, timer: setTimeout(() => this.stop(conn, roomId), this.ttlMs) });
    this.announce(conn, roomId, 'started');
  }

  stop(conn: Conn, roomId: string): void {
    const key = keyOf(conn, roomId);
    const typist = this.typists.get(key);
    if (!typist) return;
    clearTimeout(typist.timer);
    this.typists.delete(key);
    this.announce(conn, roomId, 'stopped');
  }

  /** The connection closed (or left the room): whatever it was typing stops. */
  stopAll(conn: Conn, roomId?: string): void {
    for (const [key, typist] of [...this.typists]) {
      if (typist.conn !== conn) continue;
      const room = key.split('\n')[1]!;
      if (roomId === undefined || room === roomId) this.stop(conn, room);
    }
  }

  close(): void {
    for (const typist of this.typists.values()) clearTimeout(typist.timer);
    this.typists.clear();
  }

  private announce(conn: Conn, roomId: string, state: 'started' | 'stopped'): void {
    this.bus.publish({ type: 'typing', tenant_id: conn.tenant!.id, room_id: roomId, user_id: conn.user!.id, state });
  }
}

const keyOf = (conn: Conn, roomId: string) => `${conn.tenant!.id}\n${roomId}\n${conn.user!.id}`;
