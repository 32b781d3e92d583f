/** POST /v1/realtime/tickets: a one-time ticket for opening the WebSocket from a browser. */
import type { RealtimeTicket } from '../../domain/wire.ts';
import { DomainError } from '../../domain/errors.ts';
import { created, userCallerOf, type HttpDeps, type OperationMap } from '../operation.ts';

export function realtimeHandlers({ tickets }: HttpDeps): OperationMap {
  return {
    createRealtimeTicket: async (req) => {
      if (!tickets) throw new DomainError('SERVICE_UNAVAILABLE', 'Realtime tickets are not available on this node');
      const token = req.auth.token;
      const { ticket, expires_at } = await tickets.issue(userCallerOf(req), token ? { tokenId: token.id, expiresAt: token.expiresAt } : {});
      const data: RealtimeTicket = { ticket, expires_at, url: `/v1/ws?ticket=${encodeURIComponent(ticket)}` };
      return created(data);
    },
  };
}
