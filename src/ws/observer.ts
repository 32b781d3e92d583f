/**
 * What the WebSocket node reports for operations (src/metrics.ts turns it into Prometheus
 * metrics). Nothing here names a tenant or a user: counts by frame type and close code only.
 */
export interface WsObserver {
  opened(): void;
  closed(code: number): void;
  /** A frame arrived: its type, or 'invalid' when it did not parse or validate. */
  frameIn(type: string): void;
  /** Frames sent: one per direct send, one per live subscriber of a published topic. */
  delivered(frames: number): void;
  /** A connection closed by the server for reading too slowly (4008). */
  slowConsumerKicked(): void;
  /** A frame refused by the tenant rate limit. */
  rateLimited(): void;
  /** Messages replayed to a resuming connection. */
  replayed(messages: number): void;
  /**
   * A room's live stream still had a seq gap after the gap wait (ws/sequencer.ts): 'filled' from
   * the database (the bus lost or delayed the event), 'skipped' (not even stored), or 'waiting'
   * (left open: a send of this node committed it and is not yet acknowledged).
   */
  gap(outcome: GapOutcome): void;
}

export type GapOutcome = 'filled' | 'skipped' | 'waiting';

const nothing = () => {};
export const noObserver: WsObserver = {
  opened: nothing, closed: nothing, frameIn: nothing, delivered: nothing, slowConsumerKicked: nothing, rateLimited: nothing, replayed: nothing, gap: nothing,
};
