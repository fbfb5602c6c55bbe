import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { LookoutError } from '@lookout/contracts';
import { embeddedV4, inCidr, parseCidr, parseIp, specialRange, type Cidr, type Ip } from './ip.js';

export type DestinationCode = 'destination_not_allowed' | 'destination_unresolved';

/** A webhook URL the gateway will not call, and why (the message names the address; the field is `url`). */
export class DestinationError extends LookoutError {
  declare readonly code: DestinationCode;
  constructor(code: DestinationCode, message: string) {
    super(code, message, 'url');
    this.name = 'DestinationError';
  }
}

const cidrs = (rows: Array<[string, string]>) => rows.map(([c, reason]) => ({ cidr: parseCidr(c)!, reason }));

/**
 * Addresses a webhook must not reach unless allowed by config: whatever is not the public
 * internet (the gateway's own network, cloud metadata at 169.254.169.254, loopback
 * services) — the classic server-side request forgery targets.
 */
const DENIED = cidrs([
  ['0.0.0.0/8', 'unspecified ("this network")'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared address space (CGNAT)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.0.2.0/24', 'documentation'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved or broadcast'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'IPv4-compatible (deprecated)'],
  ['100::/64', 'discard-only'],
  ['2001::/32', 'Teredo'],
  ['2001:db8::/32', 'documentation'],
  ['fc00::/7', 'unique local (ULA)'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local (deprecated)'],
  ['ff00::/8', 'multicast'],
]);

const normaliseHost = (h: string) => h.toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');

/**
 * Which webhook destinations the gateway may call. Public addresses always; the ranges
 * above only when `WEBHOOK_ALLOW_HOSTS` names the host, the address or a CIDR holding it.
 * Checked at registration and again on every connection (see `lookup`), so a name that
 * later resolves elsewhere (DNS rebinding) is refused at delivery time too.
 */
export class DestinationPolicy {
  private readonly hosts = new Set<string>();
  private readonly nets: Cidr[] = [];

  /** `spec`: comma-separated host names, IPs and CIDRs; throws on an unparsable entry, naming `setting`. */
  constructor(spec: string, setting = 'WEBHOOK_ALLOW_HOSTS') {
    for (const entry of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
      const cidr = parseCidr(entry);
      if (cidr) this.nets.push(cidr);
      else if (/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\.?$/.test(entry) && !entry.includes('/')) this.hosts.add(normaliseHost(entry));
      else throw new Error(`${setting}: "${entry}" is neither a host name, an IP address nor a CIDR`);
    }
  }

  /** Why `address` (reached as `host`) may not be called, or undefined when it may. */
  refusal(address: string, host = address): string | undefined {
    if (this.hosts.has(normaliseHost(host))) return undefined;
    const ip = parseIp(address);
    if (!ip) return `${address} is not an IP address`;
    // An IPv6 address carrying an IPv4 one (mapped, NAT64, 6to4) is judged by the IPv4 address.
    const inner = embeddedV4(ip);
    const allowed = (x: Ip | undefined) => x !== undefined && this.nets.some((c) => inCidr(x, c));
    if (allowed(ip) || allowed(inner)) return undefined;
    const judged = inner ?? ip;
    const denied = DENIED.find((d) => inCidr(judged, d.cidr));
    if (denied) return `${address} is a ${denied.reason} address`;
    // Second opinion: any other special-purpose range ipaddr.js knows (AMT, AS112, ORCHIDv2, …).
    const special = specialRange(judged);
    return special ? `${address} is a special-purpose address (${special})` : undefined;
  }

  /**
   * Why a connection to `url` must not be made, for a host that is an IP literal: Node's
   * connect skips `lookup` for those, so they are vetted here (names are, by `lookup`).
   */
  literalRefusal(url: URL): string | undefined {
    const host = normaliseHost(url.hostname);
    return parseIp(host) ? this.refusal(host) : undefined;
  }

  /**
   * Checks a webhook URL at registration: http(s), and every address its host resolves to
   * is allowed (one private answer is enough to refuse: the resolver may pick it).
   */
  async checkUrl(raw: string): Promise<URL> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new DestinationError('destination_not_allowed', 'url: not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DestinationError('destination_not_allowed', 'url: only http and https are allowed');
    const host = normaliseHost(url.hostname);
    if (this.hosts.has(host)) return url;
    const addresses = parseIp(host) ? [host] : await resolve(host);
    for (const address of addresses) {
      const why = this.refusal(address, host);
      if (why) throw new DestinationError('destination_not_allowed', `url: ${host} is not an allowed destination (${why})`);
    }
    return url;
  }

  /**
   * A resolver for http.request: refuses the connection when any address the name
   * resolves to now is not allowed. Node connects to what this returns, so the checked
   * address is the one used; no second lookup can swap it.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const why = addresses.map((a) => this.refusal(a.address, hostname)).find(Boolean);
      const first = addresses[0];
      if (why || !first) return callback(Object.assign(new Error(`destination not allowed: ${why ?? 'no address'}`), { code: 'EDESTINATION' }), '', 0);
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}

async function resolve(host: string): Promise<string[]> {
  try {
    const found = await dns.promises.lookup(host, { all: true, verbatim: true });
    if (found.length === 0) throw new Error('no address');
    return found.map((a) => a.address);
  } catch (err) {
    throw new DestinationError('destination_unresolved', `url: ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}
