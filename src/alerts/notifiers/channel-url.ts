import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a notification must not be sent to unless ALERTS_ALLOW_PRIVATE_URLS is set: an alert
 * whose webhook points inside the network would let anyone who can define alerts probe it (and
 * reach cloud metadata at 169.254.169.254).
 */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

/** Whether an IP address is private, loopback, link-local or otherwise not on the internet. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family !== 6) return true;
  // IPv4 written as IPv6 (::ffff:10.0.0.1) is the IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  return PRIVATE.check(address, 'ipv6');
}

/**
 * What is wrong with a channel URL, or null: it must be http(s), without credentials, and unless
 * private addresses are allowed, its host must not resolve to a private address (checked again
 * before every send, since a name can be pointed elsewhere later).
 */
export async function channelUrlProblem(raw: unknown, allowPrivate: boolean): Promise<string | null> {
  if (typeof raw !== 'string' || raw.length > 2000) return 'must be an http or https URL of at most 2000 characters';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an http or https URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http or https URL, not ${url.protocol.replace(/:$/, '')}`;
  if (url.username || url.password) return 'must not carry a user name or password (put a token in the path or query)';
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      // Not resolvable now (a typo, or DNS briefly down): nothing private is reached through it
      // today, and every send checks again, so it is not refused here.
      return null;
    }
  }
  const blocked = addresses.find(isPrivateAddress);
  if (blocked) return `points at a private, loopback or link-local address (${blocked}); refused unless ALERTS_ALLOW_PRIVATE_URLS is set`;
  return null;
}
