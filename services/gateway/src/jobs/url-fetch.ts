import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LookoutError } from '@lookout/contracts';
import { DestinationError, type DestinationPolicy } from '../webhooks/destination.js';

export interface FetchOptions {
  /** Where the video may come from: the webhooks' rules, with JOB_URL_ALLOW_HOSTS. */
  policy: DestinationPolicy;
  /** The largest video accepted (JOB_MAX_BYTES), enforced while reading. */
  maxBytes: number;
  /** The whole download, redirects included (JOB_FETCH_TIMEOUT_MS). */
  timeoutMs: number;
  /** Aborts the download (the job was cancelled or deleted, the gateway is stopping). */
  signal?: AbortSignal;
  /** The size so far, as bytes arrive. */
  onBytes?: (bytes: number) => void;
}

/** Redirects followed at most; each is checked against the policy before it is followed. */
export const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'Lookout-Jobs/1';
const PROGRESS_STEP = 1 << 20;

const failed = (message: string) => new LookoutError('fetch_failed', `url: ${message}`, 'url');

/**
 * Downloads the video at `rawUrl` into `file` (created, or truncated) with the webhooks'
 * destination rules: the URL and every redirect target are checked before they are asked
 * (`checkUrl`), and again at connect time (`lookup`, and `literalRefusal` for IP literals),
 * so a name that resolves elsewhere by then (DNS rebinding) is refused too. Redirects are
 * followed by hand, at most MAX_REDIRECTS. Rejects with destination_not_allowed or
 * destination_unresolved (a refused place), fetch_failed (a non-2xx answer, too many
 * redirects, a body over the limit, a timeout, a network error) or, when `signal` aborts,
 * its reason; the partial file is removed first. Resolves with the size.
 */
export async function fetchToFile(rawUrl: string, file: string, o: FetchOptions): Promise<number> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  try {
    let url = await o.policy.checkUrl(rawUrl);
    for (let hops = 0; ; hops++) {
      const res = await get(url, o.policy, signal);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && location) {
        res.destroy();
        if (hops >= MAX_REDIRECTS) throw failed(`more than ${MAX_REDIRECTS} redirects`);
        url = await o.policy.checkUrl(resolveLocation(location, url));
        continue;
      }
      if (status < 200 || status > 299) {
        res.destroy();
        throw failed(`${url.host} answered HTTP ${status}`);
      }
      return await save(res, file, o);
    }
  } catch (err) {
    await fs.promises.rm(file, { force: true });
    if (o.signal?.aborted) throw o.signal.reason;
    if (timeout.aborted) throw failed(`no complete answer within ${o.timeoutMs} ms (JOB_FETCH_TIMEOUT_MS)`);
    throw err instanceof LookoutError ? err : failed((err as Error).message || 'request failed');
  }
}

/** A redirect's target, absolute; one that is not a URL is the server's fault. */
function resolveLocation(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch {
    throw failed(`${base.host} redirected to an invalid location`);
  }
}

/** One GET, answered with the response (its body unread); refused destinations reject. */
function get(url: URL, policy: DestinationPolicy, signal: AbortSignal): Promise<http.IncomingMessage> {
  const refused = policy.literalRefusal(url);
  if (refused) return Promise.reject(new DestinationError('destination_not_allowed', `url: ${url.host} is not an allowed destination (${refused})`));
  const send = url.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    // No keep-alive agent: one download per job, and a pooled socket would skip the connect-time check.
    const req = send(url, { agent: false, lookup: policy.lookup, signal, headers: { 'user-agent': USER_AGENT, accept: 'video/*, */*;q=0.5' } }, resolve);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EDESTINATION') reject(new DestinationError('destination_not_allowed', `url: ${url.host} is not an allowed destination (${err.message})`));
      else reject(failed(`${url.host}: ${err.code ?? err.message}`));
    });
  });
}

/** Streams a 2xx body into `file`, refusing a declared or actual size over the limit. */
async function save(res: http.IncomingMessage, file: string, o: FetchOptions): Promise<number> {
  const tooLarge = () => failed(`the video is larger than the limit of ${o.maxBytes} bytes (JOB_MAX_BYTES)`);
  const declared = res.headers['content-length'];
  if (declared !== undefined && Number(declared) > o.maxBytes) {
    res.destroy();
    throw tooLarge();
  }
  let size = 0;
  let reported = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      size += chunk.length;
      if (size > o.maxBytes) return done(tooLarge());
      if (size - reported >= PROGRESS_STEP) o.onBytes?.((reported = size));
      done(null, chunk);
    },
  });
  await pipeline(res, counter, fs.createWriteStream(file));
  o.onBytes?.(size);
  return size;
}
