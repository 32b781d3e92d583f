/**
 * Messages this process has committed but not yet announced. A pipelined WebSocket send
 * (ws/dispatch.ts) commits with the sends of its run, then waits for the send before it to be
 * answered, so its message.ack goes out in frame order and before its message.created. Meanwhile
 * its seq is a gap in the room's live stream, and a room's sequencer (ws/sequencer.ts) fills a gap
 * that stays open past gapMs from the database. It must not fill these: the sender would get its
 * own message.created before its ack. The domain holds a seq here from COMMIT until it has
 * announced it; the sequencer leaves held seqs open. Process-local on purpose: only this process
 * has the sender's connection to keep in order (another node fills the gap as before).
 */
export class Unannounced {
  private readonly rooms = new Map<string, Set<number>>();

  /** Holds `seq` of the room until the returned function is called (once the event is announced). */
  hold(tenantId: string, roomId: string, seq: number): () => void {
    const key = roomKey(tenantId, roomId);
    let seqs = this.rooms.get(key);
    if (!seqs) this.rooms.set(key, (seqs = new Set()));
    seqs.add(seq);
    return () => {
      seqs.delete(seq);
      if (seqs.size === 0 && this.rooms.get(key) === seqs) this.rooms.delete(key);
    };
  }

  /** The lowest held seq of the room in [from, to], if any. */
  lowest(tenantId: string, roomId: string, from: number, to: number): number | undefined {
    const seqs = this.rooms.get(roomKey(tenantId, roomId));
    if (!seqs) return undefined;
    let lowest: number | undefined;
    for (const s of seqs) if (s >= from && s <= to && (lowest === undefined || s < lowest)) lowest = s;
    return lowest;
  }
}

const roomKey = (tenantId: string, roomId: string) => `${tenantId}\u0000${roomId}`;
