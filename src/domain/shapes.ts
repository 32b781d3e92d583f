/**
 * Wire shapes the domain returns (snake_case, times as ISO-8601 strings), mirroring
 * spec/schemas/*.yaml. Stand-in until src/domain/wire.ts (generated types) lands; then this file
 * re-exports from there so the rest of the domain does not change.
 */
export type Role = 'superadmin' | 'admin' | 'moderator' | 'staff' | 'user';
export type MemberRole = 'owner' | 'moderator' | 'member';
export type RoomType = 'dm' | 'group' | 'channel';

export interface TenantSettings {
  rate_limit_per_second: number;
  rate_limit_burst: number;
  default_token_ttl_seconds: number;
  max_token_ttl_seconds: number;
  allowed_origins: string[];
}

export interface Tenant {
  id: string;
  name: string;
  settings: TenantSettings;
  created_at: string;
  updated_at: string;
}

export interface Permissions {
  can_send_message: boolean;
  can_receive_message: boolean;
  can_delete_message: boolean;
  can_edit_message: boolean;
  can_archive_conversation: boolean;
}

export interface User {
  id: string;
  username: string;
  email: string | null;
  display_name: string | null;
  role: Role;
  permissions: Permissions;
  created_at: string;
  updated_at: string;
}

export interface UserToken {
  token: string;
  token_id: string;
  user_id: string;
  expires_at: string;
}

export interface Message {
  id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  content: string;
  meta: Record<string, unknown> | null;
  client_msg_id: string | null;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
}

export interface Member {
  user_id: string;
  role: MemberRole;
  joined_at: string;
  delivered_seq: number;
  read_seq: number;
}

export interface Room {
  id: string;
  type: RoomType;
  name: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  last_seq: number;
  member_count: number;
  unread_count: number;
  last_message: Message | null;
  my_role: MemberRole;
}

export interface RoomDetail extends Room {
  members: Member[];
}

export interface ReadCursor {
  room_id: string;
  user_id: string;
  delivered_seq: number;
  read_seq: number;
}
