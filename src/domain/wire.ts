/**
 * Wire types, re-exported from the types `make generate` derives from spec/ (never declared by hand).
 * The domain returns these shapes, so handlers and WebSocket frames pass them through unchanged.
 */
import type { components } from '../../generated/openapi.d.ts';

type Schemas = components['schemas'];

export type Tenant = Schemas['Tenant'];
export type TenantSettings = Schemas['TenantSettings'];
export type TenantSettingsPatch = Schemas['TenantSettingsPatch'];
export type TenantCredentials = Schemas['TenantCredentials'];
export type PublishableKey = Schemas['PublishableKey'];
export type AuthSession = Schemas['AuthSession'];
export type GuestSession = Schemas['GuestSession'];
export type RoomSession = Schemas['RoomSession'];
export type RoomInvite = Schemas['RoomInvite'];
export type RoomInviteCreated = Schemas['RoomInviteCreated'];
export type PublishableKeyCredentials = Schemas['PublishableKeyCredentials'];
export type User = Schemas['User'];
export type Role = Schemas['Role'];
export type Permissions = Schemas['Permissions'];
export type PermissionsPatch = Schemas['PermissionsPatch'];
export type UserToken = Schemas['UserToken'];
export type Room = Schemas['Room'];
export type RoomDetail = Schemas['RoomDetail'];
export type RoomType = Schemas['RoomType'];
export type Member = Schemas['Member'];
export type MemberRole = Schemas['MemberRole'];
export type Message = Schemas['Message'];
export type MessagePage = Schemas['MessagePage'];
export type ReadCursor = Schemas['ReadCursor'];
export type Health = Schemas['Health'];
export type RateLimitState = Schemas['RateLimitState'];
export type RealtimeTicket = Schemas['RealtimeTicket'];
export type PresenceEntry = Schemas['PresenceEntry'];
export type ErrorBody = Schemas['Error'];
export type ErrorCodeWire = Schemas['ErrorCode'];

export type CreateTenantRequest = Schemas['CreateTenantRequest'];
export type UpdateTenantRequest = Schemas['UpdateTenantRequest'];
export type CreateUserRequest = Schemas['CreateUserRequest'];
export type UpdateUserRequest = Schemas['UpdateUserRequest'];
export type MintTokenRequest = Schemas['MintTokenRequest'];
export type CreateRoomRequest = Schemas['CreateRoomRequest'];
export type UpdateRoomRequest = Schemas['UpdateRoomRequest'];
export type AddMemberRequest = Schemas['AddMemberRequest'];
export type SendMessageRequest = Schemas['SendMessageRequest'];
export type EditMessageRequest = Schemas['EditMessageRequest'];
export type AckRequest = Schemas['AckRequest'];
export type ReadRequest = Schemas['ReadRequest'];

/** A list page: `next_cursor` is null on the last page. */
export interface PageOf<T> {
  items: T[];
  next_cursor: string | null;
}
export type Webhook = Schemas['Webhook'];
export type WebhookWithSecret = Schemas['WebhookWithSecret'];
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type WebhookEvent = Schemas['WebhookEvent'];
export type Notification = Schemas['Notification'];
