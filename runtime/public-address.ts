/**
 * Where webhooks may go (SSRF). A subscription's URL comes from an agent, which is not trusted: without
 * these checks it could make the worker POST into the operator's own network (a database's admin port,
 * a cloud metadata service at 169.254.169.254, a service on loopback). Loopback, link-local, private,
 * unspecified and other non-public addresses are refused, IPv4 and IPv6 alike (IPv4-mapped, -compatible,
 * NAT64 and 6to4 addresses by the IPv4 address inside), unless the operator sets
 * SWITCHYARD_ALLOW_PRIVATE_TARGETS=true. Checked when a subscription is created and again at every
 * delivery against the address the connection is actually made to (a name may resolve elsewhere later:
 * DNS rebinding); redirects are never followed.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

/** [first address, prefix length] of IPv4 ranges that are not the public internet. */
const NON_PUBLIC_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], // unspecified, "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

function v4Number(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function v4Public(ip: string): boolean {
  const n = v4Number(ip);
  return !NON_PUBLIC_V4.some(([base, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(v4Number(base) / 2 ** (32 - bits)));
}

/** The 16 bytes of an IPv6 address that isIP() accepted (`::`, an embedded dotted quad and a zone id allowed). */
function v6Bytes(ip: string): number[] {
  let text = ip.replace(/%.*$/, '');
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const [head, rest] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const front = parse(head);
  const back = rest === undefined ? [] : parse(rest);
  const groups = rest === undefined ? front : [...front, ...Array<number>(Math.max(0, 8 - front.length - back.length)).fill(0), ...back];
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function v6Public(ip: string): boolean {
  const b = v6Bytes(ip);
  if (b.length !== 16) return false;
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const v4At = (i: number) => b.slice(i, i + 4).join('.');
  if (zero(0, 16)) return false; // ::
  if (zero(0, 15) && b[15] === 1) return false; // ::1
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4Public(v4At(12)); // ::ffff:a.b.c.d (IPv4-mapped)
  if (zero(0, 12)) return v4Public(v4At(12)); // ::a.b.c.d (IPv4-compatible)
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) return zero(4, 12) ? v4Public(v4At(12)) : false; // NAT64
  if (b[0] === 0x20 && b[1] === 0x02) return v4Public(v4At(2)); // 6to4
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x00 && b[3] === 0x00) return false; // Teredo (hides an IPv4 address)
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return false; // documentation
  if (b[0] === 0x01 && b[1] === 0x00 && zero(2, 8)) return false; // discard-only
  if ((b[0]! & 0xfe) === 0xfc) return false; // unique local (private)
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return false; // link-local
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return false; // site-local (deprecated)
  if (b[0] === 0xff) return false; // multicast
  return true;
}

/** Whether an IP address is on the public internet (anything that is not an address is not). */
export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip.replace(/%.*$/, ''));
  if (family === 4) return v4Public(ip);
  if (family === 6) return v6Public(ip);
  return false;
}

/** A URL's host as an address or a name: `[::1]` loses its brackets (WHATWG URL already wrote 127.1 and 2130706433 as 127.0.0.1). */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

export class TargetRefused extends Error {
  readonly code = 'ETARGETREFUSED';
  constructor(readonly host: string, readonly address: string) {
    super(`${host} resolves to ${address}, which is not a public address (SWITCHYARD_ALLOW_PRIVATE_TARGETS is off)`);
  }
}

/**
 * A `lookup` for http.request that refuses a name resolving to any non-public address: the check is
 * made on the very addresses the socket then connects to, so a name cannot pass it and connect elsewhere.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 4);
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused || addresses.length === 0) return callback(new TargetRefused(hostname, refused?.address ?? 'nothing'), '', 4);
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

export type TargetCheck = { ok: true } | { ok: false; reason: string };

/**
 * A subscription's URL at creation: its address, or every address its name resolves to, must be
 * public. A name that does not exist is refused; a DNS failure that may pass is not (delivery checks again).
 */
export async function checkTarget(raw: string): Promise<TargetCheck> {
  const host = hostOf(new URL(raw));
  if (isIP(host)) return isPublicAddress(host) ? { ok: true } : { ok: false, reason: `${host} is not a public address` };
  const found = await new Promise<LookupAddress[] | NodeJS.ErrnoException>((resolve) => dnsLookup(host, { all: true }, (err, a) => resolve(err ?? a)));
  if (!Array.isArray(found)) return found.code === 'ENOTFOUND' ? { ok: false, reason: `${host} does not resolve` } : { ok: true };
  const bad = found.find((a) => !isPublicAddress(a.address));
  return bad ? { ok: false, reason: `${host} resolves to ${bad.address}, which is not a public address` } : { ok: true };
}
