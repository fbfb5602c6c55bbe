import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A named readiness check; the service is ready when all return true. */
export type ReadinessCheck = () => boolean;

export interface HealthOptions {
  registry: Registry;
  checks: Map<string, ReadinessCheck>;
  /** False once shutdown began: liveness stays green, readiness goes red. */
  accepting: () => boolean;
}

/**
 * Handles /healthz, /readyz and /metrics; returns false for any other path so a host
 * (plain http or express) can serve the rest.
 */
export function createHealthHandler(opts: HealthOptions) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
      return true;
    }
    if (path === '/readyz') {
      const failing = [...opts.checks].filter(([, check]) => !safe(check)).map(([name]) => name);
      if (!opts.accepting()) failing.push('shutting_down');
      sendJson(res, failing.length === 0 ? 200 : 503, { status: failing.length === 0 ? 'ready' : 'not_ready', failing });
      return true;
    }
    if (path === '/metrics') {
      opts.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'content-type': opts.registry.contentType });
          res.end(body);
        })
        .catch((err: Error) => sendJson(res, 500, { error: err.message }));
      return true;
    }
    return false;
  };
}

function safe(check: ReadinessCheck): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Starts a plain HTTP server for the health endpoints; resolves once listening. */
export async function listenHttp(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  port: number,
  host: string,
): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}

export function closeHttp(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** `host` as it goes in a URL: IPv6 literals in brackets ("::1" → "[::1]"). */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Where a local client reaches a server bound to `host`: the wildcard addresses are not
 * destinations, so 0.0.0.0 means 127.0.0.1 and :: means ::1 (an IPv6-only socket does
 * not answer on 127.0.0.1); any other address is used as it is.
 */
export function localUrlHost(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return urlHost(host);
}
