import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { DestinationPolicy } from './destination.js';

export interface SendResult {
  ok: boolean;
  status?: number;
  error?: string;
  durationMs: number;
}

const USER_AGENT = 'Lookout-Webhooks/1';

/**
 * POSTs webhook requests with node:http rather than fetch: `lookup` lets the destination
 * policy vet the very address the socket connects to (see DestinationPolicy.lookup), and
 * redirects are never followed (a 3xx is a failure), so a receiver cannot bounce the
 * gateway to an internal address either.
 */
export class WebhookSender {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
  };

  constructor(
    private readonly policy: DestinationPolicy,
    private readonly timeoutMs: number,
  ) {}

  /** One attempt; never throws. `signal` aborts it (shutdown). */
  async post(rawUrl: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<SendResult> {
    const started = performance.now();
    const finish = (r: Omit<SendResult, 'durationMs'>): SendResult => ({ ...r, durationMs: Math.round((performance.now() - started) * 10) / 10 });
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return finish({ ok: false, error: 'invalid URL' });
    }
    const refused = this.policy.literalRefusal(url);
    if (refused) return finish({ ok: false, error: `destination not allowed: ${refused}` });
    return finish(await this.request(url, body, headers, signal));
  }

  private request(url: URL, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<Omit<SendResult, 'durationMs'>> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const agent = url.protocol === 'https:' ? this.agents['https:'] : this.agents['http:'];
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve) => {
      const req = send(
        url,
        {
          method: 'POST',
          agent,
          lookup: this.policy.lookup,
          signal: AbortSignal.any([signal, timeout]),
          headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': USER_AGENT },
        },
        (res) => {
          // The status decides; the body is drained (so the connection can be reused) and ignored.
          res.resume();
          res.on('error', () => undefined);
          const status = res.statusCode ?? 0;
          resolve({ ok: status >= 200 && status < 300, status });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        const error = timeout.aborted ? `timeout after ${this.timeoutMs} ms` : signal.aborted ? 'aborted (gateway stopping)' : err.message || err.code || 'request failed';
        resolve({ ok: false, error });
      });
      req.end(body);
    });
  }

  close(): void {
    for (const a of Object.values(this.agents)) a.destroy();
  }
}
