/** Shared steps for the identity tests: a tenant with sign-in flows on and a publishable key. */
import type { PasswordHasher } from '../../src/domain/passwords.ts';
import { argon2Hasher } from '../../src/domain/passwords.ts';
import type { ApiClient } from '../helpers/client.ts';
import type { TestServer, TestTenant } from '../helpers/server.ts';

export const ORIGIN = 'https://app.example';

export interface SignInTenant extends TestTenant {
  publishableKey: string;
  /** What a browser page of the allowed origin holds: the publishable key only. */
  browser: ApiClient;
}

export async function signInTenant(
  s: TestServer, flows: Partial<Record<'password' | 'guest' | 'email_code' | 'invites', boolean>>, name = 'T', auth: object = {},
): Promise<SignInTenant> {
  const t = await s.tenant(name);
  const path = { params: { path: { tenant_id: t.id } } };
  const patched = await t.client.PATCH('/v1/tenants/{tenant_id}', { ...path, body: { settings: { auth: { flows, ...auth }, allowed_origins: [ORIGIN] } } });
  if (!patched.data) throw new Error(`enable flows: ${JSON.stringify(patched.error)}`);
  const key = await t.client.POST('/v1/tenants/{tenant_id}/publishable-keys', path);
  const publishableKey = key.data!.data.publishable_key;
  return { ...t, publishableKey, browser: s.client({ 'X-Publishable-Key': publishableKey, Origin: ORIGIN }) };
}

/** The argon2 hasher the suite uses, counting its calls. */
export function countingHasher(): PasswordHasher & { calls: number } {
  const inner = argon2Hasher({ memoryKib: 256, timeCost: 1, parallelism: 1 });
  const h = {
    calls: 0,
    hash: (p: string) => { h.calls++; return inner.hash(p); },
    verify: (hash: string, p: string) => { h.calls++; return inner.verify(hash, p); },
  };
  return h;
}
