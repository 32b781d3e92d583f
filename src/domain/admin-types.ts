/** Input and output shapes of the admin panel API (wire types from the spec). */
import type { components } from '../../generated/openapi.d.ts';

type Schemas = components['schemas'];
export type Conversation = Schemas['Conversation'];
export type AdminStats = Schemas['AdminStats'];
export type AuditEntry = Schemas['AuditEntry'];
export interface ConversationQuery {
  type?: string;
  member_id?: string;
  status?: string;
  active_after?: string;
  active_before?: string;
  include_total?: boolean;
  limit?: number;
  cursor?: string;
}
