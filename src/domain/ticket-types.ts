/** Input and output shapes of the tickets API (wire types from the spec). */
import type { components } from '../../generated/openapi.d.ts';

type Schemas = components['schemas'];
export type Ticket = Schemas['Ticket'];
export type TicketInput = Schemas['CreateTicketRequest'];
export type TicketPatchInput = Schemas['UpdateTicketRequest'];
export interface TicketListQuery {
  status?: string;
  priority?: string;
  category?: string;
  assignee_id?: string;
  unassigned?: boolean;
  requester_id?: string;
  created_after?: string;
  created_before?: string;
  sort?: string;
  limit?: number;
  cursor?: string;
}
