/** Input and output shapes of the moderation API (wire types from the spec). */
import type { components } from '../../generated/openapi.d.ts';

type Schemas = components['schemas'];
export type RoomBan = Schemas['RoomBan'];
export type RoomMute = Schemas['RoomMute'];
export type UserBan = Schemas['UserBan'];
export type PurgeResult = Schemas['PurgeResult'];
export type RoomMemberDetail = Schemas['RoomMemberDetail'];
export type BanInput = Schemas['BanRequest'];
export type MuteInput = Schemas['MuteRequest'];
export type PurgeInput = Schemas['PurgeRequest'];
export type UserBanInput = Schemas['UserBanRequest'];
