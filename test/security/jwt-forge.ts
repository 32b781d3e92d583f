/**
 * Forged user tokens, the way an attacker builds them by hand: any header, any claims, any
 * algorithm and key (node:crypto, no JWT library, so nothing refuses to write what a server
 * must refuse to read). `attacks(victim)` is the catalogue the auth-attack suite throws at REST
 * and the WebSocket; every one of them must be refused.
 */
import { createHmac, createSign, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');
const json = (v: unknown) => b64(JSON.stringify(v));

export interface Victim {
  /** A genuine token of the victim user. */
  token: string;
  /** The victim tenant's HS256 secret (what the server verifies with). */
  secret: Buffer;
  tenantId: string;
  /** Another tenant's id and secret (cross-tenant forgeries). */
  otherTenantId: string;
  otherSecret: Buffer;
  issuer: string;
  /** A URL that counts fetches: a server that follows jku/x5u would hit it. */
  trapUrl: string;
}

type Claims = Record<string, unknown>;

export function decode(token: string): { header: Claims; claims: Claims; signature: string } {
  const [h, p, s] = token.split('.');
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()), claims: JSON.parse(Buffer.from(p!, 'base64url').toString()), signature: s ?? '' };
}

function hmac(alg: 'HS256' | 'HS384' | 'HS512', key: Buffer | string, input: string): string {
  return createHmac(`sha${alg.slice(2)}`, key).update(input).digest('base64url');
}

/** Signs header.claims with an HMAC algorithm and key (header.alg may lie about it). */
export function signHs(header: Claims, claims: Claims, key: Buffer | string, alg: 'HS256' | 'HS384' | 'HS512' = 'HS256'): string {
  const input = `${json(header)}.${json(claims)}`;
  return `${input}.${hmac(alg, key, input)}`;
}

function signAsym(header: Claims, claims: Claims, key: KeyObject, digest: string, dsa = false): string {
  const input = `${json(header)}.${json(claims)}`;
  const sig = createSign(digest).update(input).sign(dsa ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${b64(sig)}`;
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** Every forged credential, by name: a Bearer token value. */
export function attacks(v: Victim): [string, string][] {
  const { header, claims, signature } = decode(v.token);
  const now = Math.floor(Date.now() / 1000);
  const hs = (c: Claims, h: Claims = header) => signHs(h, c, v.secret);
  const attackerSecret = randomBytes(32);
  const out: [string, string][] = [];
  const add = (name: string, token: string) => out.push([name, token]);

  // The algorithm.
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) add(`alg ${alg}, no signature`, `${json({ alg, typ: 'JWT' })}.${json(claims)}.`);
  add('alg none with the genuine signature kept', `${json({ alg: 'none', typ: 'JWT' })}.${json(claims)}.${signature}`);
  add('HS384 with the real secret', signHs({ alg: 'HS384', typ: 'JWT' }, claims, v.secret, 'HS384'));
  add('HS512 with the real secret', signHs({ alg: 'HS512', typ: 'JWT' }, claims, v.secret, 'HS512'));
  add('RS256 with the attacker\'s RSA key', signAsym({ alg: 'RS256', typ: 'JWT' }, claims, rsa.privateKey, 'sha256'));
  add('ES256 with the attacker\'s EC key', signAsym({ alg: 'ES256', typ: 'JWT' }, claims, ec.privateKey, 'sha256', true));
  add('RS256 header, HMAC with an RSA public key as secret', signHs({ alg: 'RS256', typ: 'JWT' }, claims, rsaPublicPem));
  add('HS256, HMAC with an RSA public key as secret', signHs({ alg: 'HS256', typ: 'JWT' }, claims, rsaPublicPem));
  add('HS256 with an empty secret', signHs(header, claims, ''));
  add('HS256 with the attacker\'s secret', signHs(header, claims, attackerSecret));
  // Keys embedded in or pointed at by the header.
  const jwk = rsa.publicKey.export({ format: 'jwk' });
  add('embedded RSA jwk', signAsym({ alg: 'RS256', typ: 'JWT', jwk }, claims, rsa.privateKey, 'sha256'));
  add('embedded oct jwk', signHs({ alg: 'HS256', typ: 'JWT', jwk: { kty: 'oct', k: b64(attackerSecret) } }, claims, attackerSecret));
  add('jku to the attacker\'s JWKS', signAsym({ alg: 'RS256', typ: 'JWT', jku: v.trapUrl, kid: 'k1' }, claims, rsa.privateKey, 'sha256'));
  add('jku with HS256', signHs({ alg: 'HS256', typ: 'JWT', jku: v.trapUrl }, claims, attackerSecret));
  add('x5u to the attacker', signAsym({ alg: 'RS256', typ: 'JWT', x5u: v.trapUrl }, claims, rsa.privateKey, 'sha256'));
  add('kid path traversal, empty key', signHs({ ...header, kid: '../../../../../../dev/null' }, claims, ''));
  add('kid SQL injection', signHs({ ...header, kid: "x' UNION SELECT 'secret" }, claims, 'secret'));
  add('kid naming another tenant', signHs({ ...header, kid: v.otherTenantId }, claims, attackerSecret));
  add('crit with an unknown extension', hs(claims, { ...header, crit: ['x-evil'], 'x-evil': true }));
  add('b64:false unencoded payload', hs(claims, { ...header, b64: false, crit: ['b64'] }));
  // The signature.
  const [h, p] = v.token.split('.');
  add('signature stripped, dot kept', `${h}.${p}.`);
  add('signature stripped, two parts', `${h}.${p}`);
  add('random signature', `${h}.${p}.${b64(randomBytes(32))}`);
  add('signature truncated', `${h}.${p}.${signature.slice(0, -4)}`);
  add('signature of other claims', `${h}.${json({ ...claims, sub: 'amy' })}.${signature}`);
  add('signed by the other tenant, claiming this one', signHs(header, claims, v.otherSecret));
  add('signed by this tenant, claiming the other', hs({ ...claims, tid: v.otherTenantId }));
  // The claims, re-encoded without re-signing, then properly signed with the real secret.
  add('tampered sub, old signature', `${h}.${json({ ...claims, sub: 'amy' })}.${signature}`);
  add('tampered exp, old signature', `${h}.${json({ ...claims, exp: now + 10 * 365 * 86400 })}.${signature}`);
  add('tampered tid, old signature', `${h}.${json({ ...claims, tid: v.otherTenantId })}.${signature}`);
  add('wrong issuer', hs({ ...claims, iss: 'evil' }));
  add('no issuer', hs(omit(claims, 'iss')));
  add('nbf in the future', hs({ ...claims, nbf: now + 3600 }));
  add('expired', hs({ ...claims, iat: now - 7200, exp: now - 3600 }));
  add('exp as a string', hs({ ...claims, exp: String(now + 3600) }));
  add('no exp', hs(omit(claims, 'exp')));
  add('no sub', hs(omit(claims, 'sub')));
  add('no jti', hs(omit(claims, 'jti')));
  add('unknown jti', hs({ ...claims, jti: randomUUID() }));
  add("another user's sub on this jti", hs({ ...claims, sub: 'amy' }));
  add('sub as an array', hs({ ...claims, sub: [claims.sub] }));
  add('no tid', hs(omit(claims, 'tid')));
  add('tid that exists nowhere', hs({ ...claims, tid: randomUUID() }));
  add('oversized (8 KB of padding claims)', hs({ ...claims, pad: 'x'.repeat(8000) }));
  // Not a JWT at all.
  add('empty segments', '..');
  add('garbage', 'not-a-token');
  add('four segments', `${v.token}.x`);
  add('payload is a JSON array', `${h}.${b64('[1,2]')}.${signature}`);
  add('header is not JSON', `${b64('{alg')}.${p}.${signature}`);
  add('non-base64url characters', `${h}.${p}.${signature.replace(/.$/, '*')}`);
  void v.issuer;
  return out;
}

function omit(o: Claims, key: string): Claims {
  const { [key]: _drop, ...rest } = o;
  return rest;
}
