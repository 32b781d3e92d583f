/**
 * Which bus events wake this process's webhook worker (server.ts): the ones that may have left an
 * outbox row to dispatch. Not presence: it has no outbox row (its user.online/offline row is
 * written later, in a batch the poll finds), and a crowd connecting at once would otherwise run a
 * dispatch round, a synced COMMIT on the event loop, every MIN_ROUND_GAP_MS. Nor a message this
 * process stored whose send batch wrote no outbox row for it (no endpoint of the tenant wants it):
 * the batch builds the row from this very event object when one does, and keeps its payload text
 * for it (store/outbox.ts payloadText), and under a stream of sends on a node without webhooks those wakes were two
 * queries per round for nothing. Any other event, and any from another process, may have a row.
 */
import type { BusEvent } from '../bus/types.ts';
import { payloadText } from '../store/outbox.ts';

export function wakesOutboxWorker(evt: BusEvent, local: boolean): boolean {
  if (evt.type === 'presence') return false;
  return !(local && evt.type === 'message.created' && payloadText(evt) === undefined);
}
