/**
 * Server-side request forgery guard for webhook URLs: a URL whose host is, or resolves to, a
 * loopback, link-local, private, shared (CGNAT) or unspecified address is refused unless the
 * operator allows it (WEBHOOK_ALLOW_PRIVATE=true). Checked when an endpoint is saved and again on
 * every connection (`guardedLookup`), so a name re-pointed at 127.0.0.1 later is refused too.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

/** True for addresses a webhook must not reach without the operator's consent. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true; // not an address at all: refuse
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => dnsLookup(host, { all: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))));
}

/** Why the URL may not be called (a sentence), or null when it may. Resolves the host name. */
export async function refuseUrl(url: URL, allowPrivate: boolean): Promise<string | null> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http:// or https:// URL';
  if (url.username || url.password) return 'must not carry credentials';
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addrs: string[];
  try {
    addrs = isIP(host) ? [host] : (await resolveAll(host)).map((a) => a.address);
  } catch {
    return `host "${host}" does not resolve`;
  }
  const bad = addrs.find(isPrivateAddress);
  return bad ? `resolves to ${bad}, a loopback, link-local or private address (the operator can allow these with WEBHOOK_ALLOW_PRIVATE=true)` : null;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for http.request that refuses private addresses at connect time (DNS rebinding). */
export function guardedLookup(allowPrivate: boolean) {
  return (host: string, options: object, callback: LookupCallback): void => {
    dnsLookup(host, { ...options, all: true }, (err, addrs) => {
      if (err) return callback(err, []);
      const list = addrs as LookupAddress[];
      const bad = allowPrivate ? undefined : list.find((a) => isPrivateAddress(a.address));
      if (bad) return callback(Object.assign(new Error(`refused: ${host} resolves to private address ${bad.address}`), { code: 'EPRIVATE' }), []);
      if ((options as { all?: boolean }).all) return callback(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
