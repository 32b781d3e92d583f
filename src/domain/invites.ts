/**
 * Join links: a room's owner or moderators create an invite with an unguessable code (256 bits,
 * stored as SHA-256), an optional password (argon2id), expiry and maximum uses. Any signed-in user
 * of the tenant with the code (and password) joins through admitMember, the path every way into a
 * room takes (room bans hold). An unknown, expired, revoked or used-up code is NOT_FOUND.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as store from '../store/invites.ts';
import { assertRoomManager, membership } from './access.ts';
import { assertFlow } from './auth-settings.ts';
import { tooManyAttempts } from './attempts.ts';
import type { Ctx } from './context.ts';
import { DomainError, notFound } from './errors.ts';
import { admitMember } from './members.ts';
import { checkPassword } from './passwords.ts';
import type { TenantSettings } from './shapes.ts';
import { loadTenantRow } from './tenants.ts';
import { blockedFor, throttles } from './throttles.ts';
import type { Caller, ClientInfo, Domain } from './types.ts';
import { checkInt, iso, isoOrNull, requireUser } from './validate.ts';

const MAX_INVITES = 100;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export const inviteOut = (r: store.InviteRow) => ({
  id: r.id, room_id: r.room_id, created_by: r.created_by, has_password: r.password_hash !== null,
  expires_at: isoOrNull(r.expires_at), max_uses: r.max_uses, uses: r.uses, revoked_at: isoOrNull(r.revoked_at), created_at: iso(r.created_at),
});

async function assertInvites(ctx: Ctx, tenantId: string): Promise<void> {
  const tenant = await loadTenantRow(ctx, tenantId);
  if (!tenant) throw notFound('Tenant');
  assertFlow(JSON.parse(tenant.settings) as TenantSettings, 'invites');
}

async function managedRoom(ctx: Ctx, caller: Caller, roomId: string) {
  await assertInvites(ctx, caller.tenantId);
  const { me, room } = await membership(ctx, caller, roomId);
  assertRoomManager(room, 'manage invites');
  return { me, room };
}

type CreateInput = { password?: string; expires_in_seconds?: number; max_uses?: number };

async function create(ctx: Ctx, caller: Caller, roomId: string, input: CreateInput) {
  const { me, room } = await managedRoom(ctx, caller, roomId);
  if (room.type === 'dm') throw new DomainError('CONFLICT', 'A direct message has fixed members');
  const password = input.password === undefined ? undefined : checkPassword(input.password);
  const ttl = input.expires_in_seconds === undefined ? undefined : checkInt('expires_in_seconds', input.expires_in_seconds, 60, 365 * 24 * 3600);
  const maxUses = input.max_uses === undefined ? null : checkInt('max_uses', input.max_uses, 1, 100_000);
  if ((await store.listInvites(ctx.db, me.tenantId, room.id, MAX_INVITES)).length >= MAX_INVITES) {
    throw new DomainError('CONFLICT', `A room may have at most ${MAX_INVITES} invites; revoke some first`);
  }
  const code = randomBytes(32).toString('base64url');
  const now = ctx.now();
  const row: store.InviteRow = {
    id: randomUUID(), tenant_id: me.tenantId, room_id: room.id, code_hash: sha256(code),
    password_hash: password === undefined ? null : await ctx.hasher.hash(password),
    expires_at: ttl === undefined ? null : now + ttl * 1000, max_uses: maxUses, uses: 0, revoked_at: null, created_by: me.user.id, created_at: now,
  };
  await store.insertInvite(ctx.db, row);
  return { invite: inviteOut(row), code };
}

async function join(ctx: Ctx, caller: Caller, code: string, input: { password?: string }, client: ClientInfo) {
  const me = requireUser(caller);
  if (me.roomId !== undefined) throw notFound('Invite');
  await assertInvites(ctx, me.tenantId);
  const invite = typeof code === 'string' && code.length <= 100 ? await store.findInviteByCode(ctx.db, me.tenantId, sha256(code)) : undefined;
  const usable = invite && invite.revoked_at === null && (invite.expires_at === null || invite.expires_at > ctx.now())
    && (invite.max_uses === null || invite.uses < invite.max_uses);
  if (!invite || !usable) throw notFound('Invite');
  if (invite.password_hash !== null) await checkInvitePassword(ctx, invite, input.password, client);
  if ((await store.takeUse(ctx.db, invite.id)) === 0) throw notFound('Invite');
  try {
    const member = await admitMember(ctx, me.tenantId, invite.room_id, me.user.id, 'member');
    return { room_id: invite.room_id, member };
  } catch (err) {
    await store.returnUse(ctx.db, invite.id);
    throw err;
  }
}

/** Wrong passwords are limited per invite and per client IP, checked before any hashing. */
async function checkInvitePassword(ctx: Ctx, invite: store.InviteRow, password: string | undefined, client: ClientInfo) {
  const t = throttles(ctx);
  const key = `${invite.id}:${client.ip}`;
  const wait = await blockedFor([[t.invitePassword, key], [t.ip, client.ip]]);
  if (wait) throw tooManyAttempts(wait, 'Too many wrong invite passwords');
  const ok = typeof password === 'string' && password.length <= 256 && (await ctx.hasher.verify(invite.password_hash!, password));
  if (!ok) {
    await Promise.all([t.invitePassword.fail(key), t.ip.fail(client.ip)]);
    throw new DomainError('AUTHENTICATION_ERROR', 'This invite needs its password');
  }
}

export function invitesApi(ctx: Ctx): Domain['invites'] {
  return {
    create: (caller, roomId, input) => create(ctx, caller, roomId, input),
    async list(caller, roomId) {
      const { me, room } = await managedRoom(ctx, caller, roomId);
      return { items: (await store.listInvites(ctx.db, me.tenantId, room.id, MAX_INVITES)).map(inviteOut) };
    },
    async revoke(caller, roomId, inviteId) {
      const { me, room } = await managedRoom(ctx, caller, roomId);
      if (typeof inviteId !== 'string' || (await store.revokeInvite(ctx.db, me.tenantId, room.id, inviteId, ctx.now())) === 0) throw notFound('Invite');
    },
    join: (caller, code, input, client) => join(ctx, caller, code, input, client),
  };
}
