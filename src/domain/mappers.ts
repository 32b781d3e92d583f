/** Stored rows → wire objects (snake_case, ISO times, parsed JSON). */
import type { MemberRow } from '../store/members.ts';
import type { MessageRow } from '../store/messages.ts';
import type { RoomRow } from '../store/rooms.ts';
import type { TenantRow } from '../store/tenants.ts';
import type { UserRow } from '../store/users.ts';
import type { RoomSummary } from './events.ts';
import type { Member, MemberRole, Message, Permissions, Role, RoomType, Tenant, TenantSettings, User } from './shapes.ts';
import { iso, isoOrNull } from './validate.ts';
import { authSettingsOf } from './auth-settings.ts';

const withAuthDefaults = (s: TenantSettings): TenantSettings => ({ ...s, auth: authSettingsOf(s) });

export function tenantOut(r: TenantRow): Tenant {
  return {
    id: r.id,
    name: r.name,
    // Tenants created before ticket categories (or sign-in settings) existed have none.
    settings: withAuthDefaults({ ticket_categories: [], ...(JSON.parse(r.settings) as Omit<TenantSettings, 'ticket_categories'>) } as TenantSettings),
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  };
}

export function userOut(r: UserRow): User {
  return {
    id: r.id,
    username: r.username,
    email: r.email,
    display_name: r.display_name,
    role: r.role as Role,
    permissions: JSON.parse(r.permissions) as Permissions,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  };
}

export function memberOut(r: MemberRow): Member {
  return {
    user_id: r.user_id,
    role: r.role as MemberRole,
    joined_at: iso(r.joined_at),
    delivered_seq: r.delivered_seq,
    read_seq: r.read_seq,
  };
}

export function messageOut(r: Omit<MessageRow, 'pk'>): Message {
  return {
    id: r.id,
    room_id: r.room_id,
    seq: r.seq,
    sender_id: r.sender_id,
    content: r.content,
    meta: r.meta === null ? null : (JSON.parse(r.meta) as Record<string, unknown>),
    client_msg_id: r.client_msg_id,
    created_at: iso(r.created_at),
    edited_at: isoOrNull(r.edited_at),
    deleted_at: isoOrNull(r.deleted_at),
  };
}

export function roomSummary(r: RoomRow): RoomSummary {
  return {
    id: r.id,
    type: r.type as RoomType,
    name: r.name,
    created_by: r.created_by,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    last_seq: r.last_seq,
    archived_at: isoOrNull(r.archived_at),
    slow_mode_seconds: r.slow_mode_seconds,
  };
}
