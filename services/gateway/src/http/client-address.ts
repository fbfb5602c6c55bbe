import type http from 'node:http';
import proxyaddr from 'proxy-addr';

/** The address a request comes from, for per-client budgets (the failed-credential throttle). */
export type ClientAddress = (req: http.IncomingMessage) => string;

/**
 * The client's address by TRUST_PROXY (Express's "trust proxy" forms, through the same
 * proxy-addr library): a hop count, or the addresses/CIDRs of proxies whose
 * X-Forwarded-For is believed. Empty: the TCP peer, whatever the headers say (a client
 * cannot name itself someone else). REST and the WebSocket upgrade both use this.
 */
export function clientAddress(trustProxy: string): ClientAddress {
  const spec = trustProxy.trim();
  const trust: (addr: string, i: number) => boolean = !spec
    ? () => false
    : /^\d+$/.test(spec)
      ? (_addr, i) => i < Number(spec)
      : proxyaddr.compile(spec.split(',').map((s) => s.trim()).filter(Boolean));
  return (req) => proxyaddr(req, trust);
}
