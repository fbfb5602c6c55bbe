import net from 'node:net';

/** An IP address as a number: 32 bits for IPv4, 128 for IPv6. */
export interface Ip {
  v: 4 | 6;
  n: bigint;
}

export interface Cidr extends Ip {
  bits: number;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseV6(s: string): bigint | undefined {
  let text = s;
  const groups: number[] = [];
  // A trailing dotted quad (::ffff:1.2.3.4) stands for the last two groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseV4(dotted[2]!);
    if (v4 === undefined) return undefined;
    text = `${dotted[1]!}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
  for (const g of [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    groups.push(parseInt(g, 16));
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses an IPv4 or IPv6 literal (brackets and a zone id allowed); undefined otherwise. */
export function parseIp(raw: string): Ip | undefined {
  const s = raw.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const kind = net.isIP(s);
  if (kind === 4) {
    const n = parseV4(s);
    return n === undefined ? undefined : { v: 4, n };
  }
  if (kind === 6) {
    const n = parseV6(s);
    return n === undefined ? undefined : { v: 6, n };
  }
  return undefined;
}

/** `10.0.0.0/8`, `fc00::/7`, or a single address (a /32 or /128). */
export function parseCidr(raw: string): Cidr | undefined {
  const [addr, len, ...rest] = raw.split('/');
  if (rest.length > 0 || !addr) return undefined;
  const ip = parseIp(addr);
  if (!ip) return undefined;
  const max = ip.v === 4 ? 32 : 128;
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return undefined;
  const bits = len === undefined ? max : Number(len);
  if (bits > max) return undefined;
  return { ...ip, bits };
}

export function inCidr(ip: Ip, c: Cidr): boolean {
  if (ip.v !== c.v) return false;
  const shift = BigInt((c.v === 4 ? 32 : 128) - c.bits);
  return ip.n >> shift === c.n >> shift;
}

/** IPv4 address from its 32-bit number. */
export function v4(n: bigint): Ip {
  return { v: 4, n: n & 0xffff_ffffn };
}
