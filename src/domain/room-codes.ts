/**
 * Emailed codes → room-scoped tokens. A 6-digit code is mailed for a (room, email) pair; it is
 * stored hashed, lives 10 minutes and allows 5 wrong tries. Requests always look the same to the
 * caller (202), so nothing tells whether a room or address exists. The exchange yields a token
 * that acts in that one room only, for a user keyed by the email (created on first use and
 * admitted to the room through the common member path).
 */
import { createHash, randomInt } from 'node:crypto';
import * as store from '../store/room-codes.ts';
import { findRoom } from '../store/rooms.ts';
import { findMember } from '../store/members.ts';
import * as userStore from '../store/users.ts';
import { assertFlow } from './auth-settings.ts';
import { tooManyAttempts } from './attempts.ts';
import type { Ctx } from './context.ts';
import { DomainError, isDomainError, notFound } from './errors.ts';
import { userOut } from './mappers.ts';
import { admitMember } from './members.ts';
import { defaultPermissions } from './permissions.ts';
import type { TenantSettings } from './shapes.ts';
import { loadTenantRow } from './tenants.ts';
import { blockedFor, throttles } from './throttles.ts';
import { issueToken } from './tokens.ts';
import type { ClientInfo, Domain } from './types.ts';
import { invalid } from './validate.ts';
import { isUniqueViolation } from '../store/db.ts';

const TTL_MS = 10 * 60_000;
const MAX_FAILURES = 5;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const badCode = () => new DomainError('AUTHENTICATION_ERROR', 'Invalid or expired code');

function checkEmail(value: unknown): string {
  if (typeof value !== 'string' || value.length > 254 || !EMAIL_RE.test(value.trim())) throw invalid('email', 'must be an email address');
  return value.trim().toLowerCase();
}

const emailHash = (tenantId: string, email: string) => sha256(`${tenantId}:${email}`);
const codeHash = (roomId: string, email: string, code: string) => sha256(`${roomId}:${email}:${code}`);

async function tenantWithCodes(ctx: Ctx, tenantId: string) {
  const tenant = await loadTenantRow(ctx, tenantId);
  if (!tenant) throw notFound('Tenant');
  return { tenant, auth: assertFlow(JSON.parse(tenant.settings) as TenantSettings, 'email_code') };
}

/** Groups and channels take codes; DMs and unknown rooms silently do not. */
async function codeRoom(ctx: Ctx, tenantId: string, roomId: string) {
  const room = typeof roomId === 'string' && roomId.length <= 64 ? await findRoom(ctx.db, tenantId, roomId) : undefined;
  return room && room.type !== 'dm' ? room : undefined;
}

async function request(ctx: Ctx, tenantId: string, roomId: string, rawEmail: string, client: ClientInfo): Promise<void> {
  await tenantWithCodes(ctx, tenantId);
  const email = checkEmail(rawEmail);
  const hash = emailHash(tenantId, email);
  const t = throttles(ctx);
  // The same throttles whether or not the room exists, so they reveal nothing either.
  const wait = Math.max(await t.codeSend.count(`${roomId}:${hash}`), await t.codeSendIp.count(client.ip));
  if (wait) throw tooManyAttempts(wait, 'A code was sent recently');
  const room = await codeRoom(ctx, tenantId, roomId);
  if (!room) return;
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const now = ctx.now();
  await store.putCode(ctx.db, {
    tenant_id: tenantId, room_id: room.id, email_hash: hash, code_hash: codeHash(room.id, email, code), failures: 0, expires_at: now + TTL_MS, sent_at: now,
  });
  const where = room.name ? `"${room.name}"` : 'the chat';
  await ctx.mailer.send({
    to: email,
    subject: `Your code for ${where}: ${code}`,
    text: `Your sign-in code for ${where} is ${code}.\n\nIt works once, for 10 minutes. If you did not ask for it, ignore this mail.\n`,
  });
}

async function exchange(ctx: Ctx, tenantId: string, roomId: string, input: { email: string; code: string }, client: ClientInfo) {
  const { tenant, auth } = await tenantWithCodes(ctx, tenantId);
  const email = checkEmail(input.email);
  if (typeof input.code !== 'string' || !/^[0-9]{6}$/.test(input.code)) throw invalid('code', 'must be 6 digits');
  const t = throttles(ctx);
  const wait = await blockedFor([[t.ip, client.ip]]);
  if (wait) throw tooManyAttempts(wait, 'Too many failed attempts');
  const hash = emailHash(tenantId, email);
  const row = typeof roomId === 'string' ? await store.findCode(ctx.db, tenantId, roomId, hash) : undefined;
  const expected = row && codeHash(row.room_id, email, input.code);
  if (!row || row.expires_at <= ctx.now() || row.failures >= MAX_FAILURES || row.code_hash !== expected) {
    await t.ip.fail(client.ip);
    if (row && row.code_hash !== expected) {
      // The 5th wrong try ends the code.
      if (row.failures + 1 >= MAX_FAILURES) await store.deleteCode(ctx.db, row.room_id, hash);
      else await store.addFailure(ctx.db, row.room_id, hash);
    }
    throw badCode();
  }
  if ((await store.takeCode(ctx.db, row.room_id, hash, row.code_hash)) === 0) throw badCode();
  const user = await emailUser(ctx, tenantId, email, hash);
  if (!(await findMember(ctx.db, tenantId, row.room_id, user.id))) {
    await admitMember(ctx, tenantId, row.room_id, user.id, 'member').catch((err) => {
      if (!(isDomainError(err) && err.code === 'CONFLICT')) throw err; // joined meanwhile
    });
  }
  const access = await issueToken(ctx, tenant, user.id, auth.room_token_ttl_seconds, row.room_id);
  return { user: userOut(user), access_token: access, room_id: row.room_id };
}

/** The tenant's user for an email address: `em_` + a digest, so the id never shows the address. */
async function emailUser(ctx: Ctx, tenantId: string, email: string, hash: string): Promise<userStore.UserRow> {
  const id = `em_${hash.slice(0, 40)}`;
  const existing = await userStore.findUser(ctx.db, tenantId, id);
  if (existing) return existing;
  const now = ctx.now();
  const row: userStore.UserRow = {
    tenant_id: tenantId, id, username: id, email, display_name: null, role: 'user',
    permissions: JSON.stringify(defaultPermissions('user')), created_at: now, updated_at: now,
  };
  try {
    await userStore.insertUser(ctx.db, row);
    return row;
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    return (await userStore.findUser(ctx.db, tenantId, id)) ?? Promise.reject(err);
  }
}

export function roomCodesApi(ctx: Ctx): Domain['roomCodes'] {
  return {
    request: (tenantId, roomId, email, client) => request(ctx, tenantId, roomId, email, client),
    exchange: (tenantId, roomId, input, client) => exchange(ctx, tenantId, roomId, input, client),
  };
}
