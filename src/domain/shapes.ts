/**
 * The wire shapes the domain returns (snake_case, ISO-8601 times). They come from the spec via
 * src/domain/wire.ts (generated types); this file only narrows the import list for the domain.
 *
 * Two generated types are lossy today and are patched here until the spec says more:
 * - MessageMeta is a free-form object, but `type: object` without `additionalProperties: true`
 *   generates `Record<string, never>`;
 * - RoomDetail is `allOf [Room, {required: [members]}]`, which generates `Room & Record<string, never>`.
 */
import type * as W from './wire.ts';

export type { Member, MemberRole, Permissions, ReadCursor, Role, RoomType, Tenant, TenantSettings, User, UserToken } from './wire.ts';

type Fixed<T, K extends keyof T, V> = Omit<T, K> & { [P in K]: V };

export type Message = Fixed<W.Message, 'meta', Record<string, unknown> | null>;
export type Room = Fixed<W.Room, 'last_message', Message | null>;
export type RoomDetail = Room & { members: W.Member[] };
