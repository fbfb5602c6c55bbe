import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fetchToFile, MAX_REDIRECTS } from '../src/jobs/url-fetch.js';
import { DestinationPolicy } from '../src/webhooks/destination.js';

const LIMIT = 1024 * 1024;

/**
 * A policy whose registration-time check passes every URL, as if the name had resolved to
 * a public address then: what is left is the connect-time check (DNS rebinding).
 */
class CheckedEarlier extends DestinationPolicy {
  override async checkUrl(raw: string): Promise<URL> {
    return new URL(raw);
  }
}

/** A local video server: `/video` (LIMIT/2 bytes), `/big` (declared over the limit), `/endless` (chunked past it), redirects, errors, silence. */
async function videoServer(): Promise<{ base: string; port: number; close: () => Promise<void>; hits: string[] }> {
  const hits: string[] = [];
  const body = Buffer.alloc(LIMIT / 2, 7);
  const s = http.createServer((req, res) => {
    const url = req.url ?? '/';
    hits.push(url);
    const hop = /^\/hop\/(\d+)$/.exec(url);
    if (url === '/video') return void res.writeHead(200, { 'content-type': 'video/webm' }).end(body);
    if (url === '/big') return void res.writeHead(200, { 'content-length': String(LIMIT + 1) }).end();
    if (url === '/endless') {
      res.writeHead(200, { 'content-type': 'video/webm' });
      const pump = () => {
        while (!res.destroyed && res.write(Buffer.alloc(64 * 1024, 1)));
        if (!res.destroyed) res.once('drain', pump);
      };
      return pump();
    }
    if (hop) return void res.writeHead(302, { location: Number(hop[1]) > 0 ? `/hop/${Number(hop[1]) - 1}` : '/video' }).end();
    if (url === '/to-metadata') return void res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    if (url === '/to-private') return void res.writeHead(307, { location: 'http://10.1.2.3/x.mp4' }).end();
    if (url === '/to-ftp') return void res.writeHead(302, { location: 'ftp://example.com/x.mp4' }).end();
    if (url === '/silent') return; // never answers
    res.writeHead(404).end('no');
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    hits,
    close: () => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(() => resolve()));
    },
  };
}

describe('URL jobs: downloads under the webhooks\' destination rules', () => {
  let dir: string;
  let file: string;
  let srv: Awaited<ReturnType<typeof videoServer>>;
  const allowed = new DestinationPolicy('127.0.0.1', 'JOB_URL_ALLOW_HOSTS');
  const strict = new DestinationPolicy('', 'JOB_URL_ALLOW_HOSTS');
  const fetchWith = (url: string, policy = allowed, extra: { timeoutMs?: number; signal?: AbortSignal } = {}) =>
    fetchToFile(url, file, { policy, maxBytes: LIMIT, timeoutMs: extra.timeoutMs ?? 20_000, ...(extra.signal ? { signal: extra.signal } : {}) });

  beforeAll(async () => {
    srv = await videoServer();
  });
  afterAll(() => srv.close());
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobs-url-'));
    file = path.join(dir, 'video');
    srv.hits.length = 0;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('downloads from an allow-listed loopback host, reporting the size', async () => {
    const sizes: number[] = [];
    const size = await fetchToFile(`${srv.base}/video`, file, { policy: allowed, maxBytes: LIMIT, timeoutMs: 20_000, onBytes: (n) => sizes.push(n) });
    expect(size).toBe(LIMIT / 2);
    expect(fs.statSync(file).size).toBe(LIMIT / 2);
    expect(sizes.at(-1)).toBe(LIMIT / 2);
  });

  it('refuses loopback, private and link-local addresses that are not allow-listed, without connecting', async () => {
    await expect(fetchWith(`${srv.base}/video`, strict)).rejects.toMatchObject({ code: 'destination_not_allowed', field: 'url', message: expect.stringContaining('loopback') });
    await expect(fetchWith('http://10.1.2.3/x.mp4', allowed)).rejects.toMatchObject({ code: 'destination_not_allowed', message: expect.stringContaining('private') });
    await expect(fetchWith('http://[::1]:9/x.mp4', allowed)).rejects.toMatchObject({ code: 'destination_not_allowed' });
    await expect(fetchWith('http://no-such-host.invalid/x.mp4', allowed)).rejects.toMatchObject({ code: 'destination_unresolved' });
    expect(srv.hits).toEqual([]);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('checks again at connect time: a name that resolves to a refused address by then is not connected to', async () => {
    // 'localhost' is loopback; only 127.0.0.1 as an address is allowed, not the name.
    await expect(fetchWith(`http://localhost:${srv.port}/video`, new CheckedEarlier('', 'JOB_URL_ALLOW_HOSTS'))).rejects.toMatchObject({ code: 'destination_not_allowed', message: expect.stringContaining('loopback') });
    // An IP literal skips Node's lookup: refused all the same.
    await expect(fetchWith(`${srv.base}/video`, new CheckedEarlier('', 'JOB_URL_ALLOW_HOSTS'))).rejects.toMatchObject({ code: 'destination_not_allowed' });
    expect(srv.hits).toEqual([]);
  });

  it(`follows redirects to allowed places, at most ${MAX_REDIRECTS}`, async () => {
    await expect(fetchWith(`${srv.base}/hop/${MAX_REDIRECTS - 1}`)).resolves.toBe(LIMIT / 2);
    await expect(fetchWith(`${srv.base}/hop/${MAX_REDIRECTS}`)).rejects.toMatchObject({ code: 'fetch_failed', message: expect.stringContaining('redirects') });
    expect(fs.existsSync(file)).toBe(false);
  });

  it('refuses a redirect to cloud metadata, a private address or another scheme before following it', async () => {
    await expect(fetchWith(`${srv.base}/to-metadata`)).rejects.toMatchObject({ code: 'destination_not_allowed', message: expect.stringContaining('169.254.169.254') });
    await expect(fetchWith(`${srv.base}/to-private`)).rejects.toMatchObject({ code: 'destination_not_allowed', message: expect.stringContaining('10.1.2.3') });
    await expect(fetchWith(`${srv.base}/to-ftp`)).rejects.toMatchObject({ code: 'destination_not_allowed', message: expect.stringContaining('http and https') });
    expect(srv.hits).toEqual(['/to-metadata', '/to-private', '/to-ftp']);
  });

  it('a non-2xx answer is fetch_failed naming the status', async () => {
    await expect(fetchWith(`${srv.base}/missing`)).rejects.toMatchObject({ code: 'fetch_failed', message: expect.stringContaining('HTTP 404') });
  });

  it('enforces JOB_MAX_BYTES on the declared length and while reading; the partial file is erased', async () => {
    await expect(fetchWith(`${srv.base}/big`)).rejects.toMatchObject({ code: 'fetch_failed', message: expect.stringContaining('JOB_MAX_BYTES') });
    await expect(fetchWith(`${srv.base}/endless`)).rejects.toMatchObject({ code: 'fetch_failed', message: expect.stringContaining('JOB_MAX_BYTES') });
    expect(fs.existsSync(file)).toBe(false);
  });

  it('a server that never answers fails at JOB_FETCH_TIMEOUT_MS; an abort stops the download with its reason', async () => {
    await expect(fetchWith(`${srv.base}/silent`, allowed, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'fetch_failed', message: expect.stringContaining('JOB_FETCH_TIMEOUT_MS') });
    const ctl = new AbortController();
    const download = fetchWith(`${srv.base}/silent`, allowed, { signal: ctl.signal });
    const reason = new Error('cancelled');
    ctl.abort(reason);
    await expect(download).rejects.toBe(reason);
  });
});
