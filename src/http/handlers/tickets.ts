/** Support tickets. */
import type { components } from '../../../generated/openapi.d.ts';
import { created, intParam, ok, strParam, userCallerOf, type HttpDeps, type OperationMap, type OperationRequest } from '../operation.ts';

type Schemas = components['schemas'];

/** Query booleans arrive as text; the spec has already checked they are true/false. */
export const boolParam = (value: string | string[] | undefined): boolean | undefined => {
  const v = strParam(value);
  return v === undefined ? undefined : v === 'true';
};

export function ticketHandlers({ domain }: HttpDeps): OperationMap {
  return {
    createTicket: async (req: OperationRequest<Schemas['CreateTicketRequest']>) => created(await domain.tickets.create(userCallerOf(req), req.body)),
    listTickets: async (req) => {
      const q = req.query;
      return ok(await domain.tickets.list(userCallerOf(req), {
        status: strParam(q.status), priority: strParam(q.priority), category: strParam(q.category),
        assignee_id: strParam(q.assignee_id), unassigned: boolParam(q.unassigned), requester_id: strParam(q.requester_id),
        created_after: strParam(q.created_after), created_before: strParam(q.created_before), sort: strParam(q.sort),
        limit: intParam(q.limit), cursor: strParam(q.cursor),
      }));
    },
    listMyTickets: async (req) => ok(await domain.tickets.listMine(userCallerOf(req), {
      status: strParam(req.query.status), limit: intParam(req.query.limit), cursor: strParam(req.query.cursor),
    })),
    getTicket: async (req) => ok(await domain.tickets.get(userCallerOf(req), req.params.ticket_id)),
    updateTicket: async (req: OperationRequest<Schemas['UpdateTicketRequest']>) =>
      ok(await domain.tickets.update(userCallerOf(req), req.params.ticket_id, req.body)),
    assignTicket: async (req: OperationRequest<Schemas['AssignTicketRequest']>) =>
      ok(await domain.tickets.assign(userCallerOf(req), req.params.ticket_id, req.body)),
  };
}
