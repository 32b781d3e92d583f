/** Delivered and read cursors. */
import type { AckRequest, ReadRequest } from '../../domain/wire.ts';
import { ok, userCallerOf, type HttpDeps, type OperationMap, type OperationRequest } from '../operation.ts';

export function receiptHandlers({ domain }: HttpDeps): OperationMap {
  return {
    ackDelivery: async (req: OperationRequest<AckRequest>) => ok(await domain.receipts.ack(userCallerOf(req), req.body)),
    markRoomRead: async (req: OperationRequest<ReadRequest>) =>
      ok(await domain.receipts.read(userCallerOf(req), req.params.room_id, req.body)),
  };
}
