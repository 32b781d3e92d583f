/**
 * The wire shapes the domain returns (snake_case, ISO-8601 times), generated from the spec and
 * re-exported by src/domain/wire.ts; this file only narrows the import list for the domain.
 */
export type {
  Member, MemberRole, Message, Permissions, ReadCursor, Role, Room, RoomDetail, RoomType, Tenant, TenantSettings, User, UserToken,
} from './wire.ts';
