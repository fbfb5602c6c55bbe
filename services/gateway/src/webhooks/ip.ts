import net from 'node:net';
import ipaddr from 'ipaddr.js';

/** An IPv4 or IPv6 address (ipaddr.js). */
export type Ip = ipaddr.IPv4 | ipaddr.IPv6;

/** A network: an address and its prefix length. */
export type Cidr = [Ip, number];

/**
 * Parses an IPv4 or IPv6 literal (brackets and a zone id allowed); undefined otherwise.
 * What counts as a literal is node's strict `net.isIP` (dotted quad, standard IPv6):
 * ipaddr.js alone would also take '0x7f.1', '127.1' or octal parts, spellings that must
 * reach the checks only as what WHATWG URL normalised them to.
 */
export function parseIp(raw: string): Ip | undefined {
  const s = raw.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  return net.isIP(s) === 0 ? undefined : ipaddr.parse(s);
}

/** `10.0.0.0/8`, `fc00::/7`, or a single address (a /32 or /128). */
export function parseCidr(raw: string): Cidr | undefined {
  const [addr, len, ...rest] = raw.split('/');
  if (rest.length > 0 || !addr) return undefined;
  const ip = parseIp(addr);
  if (!ip) return undefined;
  const max = ip.kind() === 'ipv4' ? 32 : 128;
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return undefined;
  const bits = len === undefined ? max : Number(len);
  return bits > max ? undefined : [ip, bits];
}

/** True when `ip` is in `cidr` (never across families: judge an embedded IPv4 with `embeddedV4`). */
export function inCidr(ip: Ip, [network, bits]: Cidr): boolean {
  return ip.kind() === network.kind() && ip.match(network, bits);
}

/**
 * IPv6 forms that carry an IPv4 address, and where its four bytes are: IPv4-mapped
 * (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002:aabb:ccdd::/48).
 */
const CARRIERS: Array<{ cidr: Cidr; at: number }> = [
  { cidr: parseCidr('::ffff:0:0/96')!, at: 12 },
  { cidr: parseCidr('64:ff9b::/96')!, at: 12 },
  { cidr: parseCidr('2002::/16')!, at: 2 },
];

/** The IPv4 address an IPv6 address carries (see CARRIERS), if any. */
export function embeddedV4(ip: Ip): ipaddr.IPv4 | undefined {
  if (ip.kind() !== 'ipv6') return undefined;
  const carrier = CARRIERS.find((c) => inCidr(ip, c.cidr));
  return carrier ? new ipaddr.IPv4(ip.toByteArray().slice(carrier.at, carrier.at + 4)) : undefined;
}

/** ipaddr.js's name for the special range `ip` is in ('private', 'loopback', …), or undefined for a public unicast address. */
export function specialRange(ip: Ip): string | undefined {
  const range = ip.range();
  return range === 'unicast' ? undefined : range;
}
