/** Messages: send (idempotent), history, edit, delete, and the cross-room "everything after" feed. */
import { DomainError } from '../../domain/errors.ts';
import type { EditMessageRequest, SendMessageRequest } from '../../domain/wire.ts';
import {
  created, intParam, ok, strParam, userCallerOf,
  type HttpDeps, type OperationMap, type OperationRequest,
} from '../operation.ts';

/** The client key may come as `Idempotency-Key` or `client_msg_id`; both must agree. */
function clientKey(req: OperationRequest<SendMessageRequest>): string | undefined {
  const header = strParam(req.headers['idempotency-key']);
  const body = req.body.client_msg_id;
  if (header !== undefined && body !== undefined && header !== body) {
    throw new DomainError('VALIDATION_ERROR', 'Idempotency-Key and client_msg_id differ', [
      { field: 'header.Idempotency-Key', message: 'must equal body.client_msg_id when both are sent' },
    ]);
  }
  return header ?? body;
}

export function messageHandlers({ domain }: HttpDeps): OperationMap {
  return {
    sendMessage: async (req: OperationRequest<SendMessageRequest>) => {
      const input = { content: req.body.content, meta: req.body.meta ?? null, client_msg_id: clientKey(req) };
      const { message, created: isNew } = await domain.messages.send(userCallerOf(req), req.params.room_id, input);
      return isNew ? created(message) : ok(message);
    },
    listRoomMessages: async (req) =>
      ok(await domain.messages.list(userCallerOf(req), req.params.room_id, {
        after_seq: intParam(req.query.after_seq),
        before_seq: intParam(req.query.before_seq),
        limit: intParam(req.query.limit),
      })),
    getMessage: async (req) => ok(await domain.messages.get(userCallerOf(req), req.params.room_id, req.params.message_id)),
    editMessage: async (req: OperationRequest<EditMessageRequest>) =>
      ok(await domain.messages.edit(userCallerOf(req), req.params.room_id, req.params.message_id, req.body)),
    deleteMessage: async (req) =>
      ok(await domain.messages.remove(userCallerOf(req), req.params.room_id, req.params.message_id)),
    listMessages: async (req) =>
      ok(await domain.messages.listAfter(userCallerOf(req), { after: strParam(req.query.after), limit: intParam(req.query.limit) })),
  };
}
