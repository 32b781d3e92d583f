/**
 * Session control signals for the realtime nodes: a credential ended (close its sessions with
 * 4010) or a user's permissions changed (update them in place). They travel on the bus only: not
 * through the outbox, since they are no business event a webhook receiver should see.
 */
import type { Ctx } from './context.ts';
import type { CredentialScope } from './events.ts';
import type { User } from './shapes.ts';

export function endSessions(ctx: Ctx, tenantId: string, scope: CredentialScope): void {
  ctx.announce([{ type: 'credentials.revoked', tenant_id: tenantId, room_id: null, scope }]);
}

export function updateSessions(ctx: Ctx, tenantId: string, user: User): void {
  ctx.announce([{ type: 'user.updated', tenant_id: tenantId, room_id: null, user }]);
}
