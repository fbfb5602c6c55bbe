import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { API_PREFIX, decodeJson, jobInfo, type JobInfo, type JobList } from '@lookout/contracts';
import { processRssBytes } from '@lookout/service-kit';
import { apiCall, rawPost, roomToken, startNatsServer, startService, stopAllProcesses, TEST_ADMIN_KEY, TEST_GATEWAY_ENV, TWO_PEOPLE_VIDEO, type NatsServer, type RunningService } from '@lookout/testkit';

/** The fixture's length, and its frames at 5 fps (test/fixtures/faces/README.md). */
const VIDEO_MS = 12_000;
const FPS = 5;
const FRAMES = (VIDEO_MS / 1000) * FPS;
const VIDEO = fs.readFileSync(TWO_PEOPLE_VIDEO);
/** JOB_MAX_BYTES of this gateway: the fixture fits, a little more does not. */
const MAX_BYTES = VIDEO.length + 50_000;

type ErrorBody = { error: { code: string; message: string; field?: string } };

/**
 * The REST surface of recording jobs (docs/gateway.md, "Recording jobs") on a real
 * nats-server and gateway. No detector or reid: jobs are queued and run without moving,
 * which is all the HTTP behaviour needs (gateway-jobs-engine.test.ts analyses them).
 */
describe('gateway recording jobs API (real nats-server and gateway; uploads, URLs, progress, cancel, delete, the video)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let gateway: RunningService;
  let base: string;
  let jobsDir: string;
  let origin: http.Server;
  let originBase: string;
  /** Every JobInfo published on jobs.>, by job, and who waits for one. */
  const progress = new Map<string, JobInfo[]>();
  const listeners = new Set<(j: JobInfo) => boolean>();

  beforeAll(async () => {
    jobsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-jobs-api-'));
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'gateway-jobs-api-test' });
    nc.subscribe('jobs.>', {
      callback: (_e, m) => {
        const j = decodeJson(jobInfo, m.data);
        progress.set(j.jobId, [...(progress.get(j.jobId) ?? []), j]);
        for (const l of [...listeners]) if (l(j)) listeners.delete(l);
      },
    });
    // Where URL jobs download from: the fixture, and a redirect to the cloud metadata address.
    origin = http.createServer((req, res) => {
      if (req.url === '/two-people.webm') return void res.writeHead(200, { 'content-type': 'video/webm', 'content-length': String(VIDEO.length) }).end(VIDEO);
      if (req.url === '/to-metadata') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originBase = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    gateway = await startService('gateway', nats.url, { ...TEST_GATEWAY_ENV, JOBS_DIR: jobsDir, JOB_MAX_BYTES: String(MAX_BYTES), JOB_URL_ALLOW_HOSTS: '127.0.0.1', CORS_ORIGINS: 'https://app.example' });
    base = `http://127.0.0.1:${gateway.httpPort}`;
  }, 180_000);

  afterAll(async () => {
    await nc?.close();
    await gateway?.stop();
    await stopAllProcesses();
    await nats?.stop();
    origin?.closeAllConnections();
    await new Promise((resolve) => origin?.close(resolve));
    if (jobsDir) fs.rmSync(jobsDir, { recursive: true, force: true });
  });

  /** The first progress of `jobId` (seen already or to come) that `match` accepts. */
  function progressOf(jobId: string, match: (j: JobInfo) => boolean, timeoutMs = 60_000): Promise<JobInfo> {
    const seen = progress.get(jobId)?.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`job ${jobId}: no such progress within ${timeoutMs} ms; last: ${JSON.stringify(progress.get(jobId)?.at(-1))}`));
      }, timeoutMs);
      const check = (j: JobInfo) => {
        if (j.jobId !== jobId || !match(j)) return false;
        clearTimeout(timer);
        resolve(j);
        return true;
      };
      listeners.add(check);
    });
  }

  /** Resolves once `file` exists and holds a byte (watching its directory, not polling). */
  function fileWithBytes(file: string): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if ((fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0) === 0) return;
        watcher.close();
        resolve();
      };
      const watcher = fs.watch(path.dirname(file), check);
      check();
    });
  }

  /** The videos held in JOBS_DIR (its host id file aside). */
  const held = () => fs.readdirSync(jobsDir).filter((f) => !f.startsWith('.'));
  /** The ids GET /jobs lists, each once. */
  const jobIds = async () => {
    const { jobs } = (await apiCall<JobList>(base, 'GET', '/jobs')).body;
    const ids = jobs.map((j) => j.jobId);
    expect(new Set(ids).size).toBe(ids.length);
    return ids.sort();
  };
  const upload = (body: Buffer<ArrayBuffer>, query = `?fps=${FPS}`, headers: Record<string, string> = {}) =>
    apiCall<JobInfo & ErrorBody>(base, 'POST', `/jobs${query}`, { body, headers: { 'content-type': 'video/webm', ...headers } });

  let uploaded: JobInfo;

  it('an upload of the two-person video is stored, probed and queued: 201 with durationMs and framesTotal', async () => {
    const res = await upload(VIDEO, `?fps=${FPS}`, { 'x-file-name': encodeURIComponent('two people.webm') });
    expect(res.status).toBe(201);
    uploaded = res.body;
    expect(uploaded).toMatchObject({
      name: 'two people.webm',
      source: { kind: 'upload', fileName: 'two people.webm' },
      status: expect.stringMatching(/^(queued|running)$/),
      fps: FPS,
      bytes: VIDEO.length,
      durationMs: VIDEO_MS,
      framesTotal: FRAMES,
      room: `rec-${uploaded.jobId}`,
    });
    expect(held()).toEqual([`${uploaded.jobId}.video`]);
    expect(fs.statSync(path.join(jobsDir, held()[0]!)).size).toBe(VIDEO.length);
    expect((await apiCall<JobInfo>(base, 'GET', `/jobs/${uploaded.jobId}`)).body).toMatchObject({ jobId: uploaded.jobId, durationMs: VIDEO_MS });
    expect((await apiCall<JobList>(base, 'GET', '/jobs')).body.jobs.map((j) => j.jobId)).toContain(uploaded.jobId);
  });

  it('an upload over JOB_MAX_BYTES is 413, declared or chunked, and leaves no file', async () => {
    const before = held();
    const url = new URL(`${base}${API_PREFIX}/jobs`);
    // Declared: answered before a byte of the body is sent.
    const declared = await rawPost<ErrorBody>(url, { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'video/webm', 'content-length': String(MAX_BYTES + 1) }, (req) => req.flushHeaders());
    expect(declared.status).toBe(413);
    expect(declared.body.error).toMatchObject({ code: 'body_too_large', message: expect.stringContaining(String(MAX_BYTES)) });
    let answered = false;
    const chunked = await rawPost<ErrorBody>(url, { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'video/webm' }, (req) => {
      req.on('response', () => (answered = true));
      const pump = () => {
        for (let i = 0; i < 200 && !answered; i++) if (!req.write(Buffer.alloc(64 * 1024, 5))) return void req.once('drain', pump);
        if (!req.destroyed) req.end();
      };
      pump();
    });
    expect(chunked.status).toBe(413);
    expect(chunked.body.error.code).toBe('body_too_large');
    expect(held()).toEqual(before);
    // The chunked one had made its job: failed, saying why.
    const failed = (await apiCall<JobList>(base, 'GET', '/jobs')).body.jobs.find((j) => j.status === 'failed' && j.error?.code === 'body_too_large');
    expect(failed).toBeDefined();
  });

  it('a client that goes away mid-upload fails its job and leaves no file; meanwhile its video is not served', async () => {
    const before = held();
    // The first progress of a job not seen before (earlier jobs' late progress aside).
    const known = new Set(progress.keys());
    const created = new Promise<string>((resolve) => listeners.add((j) => !known.has(j.jobId) && (resolve(j.jobId), true)));
    const req = http.request(`${base}${API_PREFIX}/jobs`, { method: 'POST', agent: false, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'video/webm', 'content-length': String(VIDEO.length) } });
    req.on('error', () => undefined);
    req.write(VIDEO.subarray(0, 200_000));
    const jobId = await created;
    await fileWithBytes(path.join(jobsDir, `${jobId}.video`));
    // Still arriving: a player would take the part there is for the whole.
    expect((await apiCall<ErrorBody>(base, 'GET', `/jobs/${jobId}/video`)).body.error).toMatchObject({ code: 'not_found', message: expect.stringContaining('still arriving') });
    req.destroy();
    const failed = await progressOf(jobId, (j) => j.status === 'failed');
    expect(failed.error).toMatchObject({ code: 'bad_request', message: expect.stringContaining('broke off') });
    expect(held()).toEqual(before);
  });

  it('a body that is not a video is 422 not_video, and its file is erased', async () => {
    const before = held();
    const res = await upload(randomBytes(50_000));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('not_video');
    expect(held()).toEqual(before);
  });

  it('refuses a wrong type, bad options, a bad URL body and private, loopback and link-local URLs before making a job', async () => {
    const before = await jobIds();
    expect((await upload(VIDEO, '', { 'content-type': 'text/plain' })).body.error.code).toBe('unsupported_media_type');
    expect((await upload(VIDEO, '?fps=99')).body.error).toMatchObject({ code: 'invalid_request', field: 'fps' });
    expect((await apiCall<ErrorBody>(base, 'POST', '/jobs', { json: { url: 'ftp://example.com/x.mp4' } })).status).toBe(400);
    expect((await apiCall<ErrorBody>(base, 'POST', '/jobs', { json: { url: `${originBase}/two-people.webm`, fps: 50 } })).body.error.field).toBe('fps');
    for (const [url, why] of [
      ['http://10.1.2.3/x.mp4', 'private'],
      ['http://127.0.0.2/x.mp4', 'loopback'],
      ['http://[::1]/x.mp4', 'loopback'],
      ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ] as const) {
      const res = await apiCall<ErrorBody>(base, 'POST', '/jobs', { json: { url } });
      expect({ url, status: res.status, error: res.body.error }).toMatchObject({ url, status: 422, error: { code: 'destination_not_allowed', field: 'url', message: expect.stringContaining(why) } });
    }
    expect(await jobIds()).toEqual(before);
  }, 120_000);

  it('a URL job from an allow-listed local server: 202 fetching, then downloaded, probed and queued', async () => {
    const res = await apiCall<JobInfo>(base, 'POST', '/jobs', { json: { url: `${originBase}/two-people.webm`, fps: FPS } });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'fetching', name: 'two-people.webm', source: { kind: 'url', url: `${originBase}/two-people.webm` } });
    const queued = await progressOf(res.body.jobId, (j) => j.status !== 'fetching');
    expect(queued).toMatchObject({ status: expect.stringMatching(/^(queued|running)$/), bytes: VIDEO.length, durationMs: VIDEO_MS, framesTotal: FRAMES });
    expect(held()).toContain(`${res.body.jobId}.video`);
  });

  it('a redirect from an allowed host to 169.254.169.254 fails the job (destination_not_allowed), with no file', async () => {
    const res = await apiCall<JobInfo>(base, 'POST', '/jobs', { json: { url: `${originBase}/to-metadata` } });
    expect(res.status).toBe(202);
    const failed = await progressOf(res.body.jobId, (j) => j.status === 'failed');
    expect(failed.error).toMatchObject({ code: 'destination_not_allowed', message: expect.stringContaining('169.254.169.254') });
    expect(held()).not.toContain(`${res.body.jobId}.video`);
  });

  it('the video is served with Range (206) to an admin and to a viewer of the job\'s room, as ?token= too', async () => {
    const id = uploaded.jobId;
    const ranged = await fetch(`${base}${API_PREFIX}/jobs/${id}/video`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, range: 'bytes=100-1099' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 100-1099/${VIDEO.length}`);
    expect(ranged.headers.get('accept-ranges')).toBe('bytes');
    expect(ranged.headers.get('content-type')).toBe('video/webm');
    expect(Buffer.from(await ranged.arrayBuffer()).equals(VIDEO.subarray(100, 1100))).toBe(true);
    const viewer = roomToken(`rec-${id}`, 'viewer');
    const linked = await fetch(`${base}${API_PREFIX}/jobs/${id}/video?token=${viewer}`, { headers: { range: `bytes=${VIDEO.length - 10}-` } });
    expect(linked.status).toBe(206);
    expect(Buffer.from(await linked.arrayBuffer()).equals(VIDEO.subarray(VIDEO.length - 10))).toBe(true);
    const whole = await apiCall(base, 'GET', `/jobs/${id}/video`, { auth: viewer });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe(String(VIDEO.length));
    expect((await fetch(`${base}${API_PREFIX}/jobs/${id}/video?token=${viewer}`, { headers: { range: `bytes=${VIDEO.length + 10}-` } })).status).toBe(416);
  });

  it('a token of another room, or a publisher of the job\'s room, gets 403; an unknown job 404', async () => {
    const id = uploaded.jobId;
    for (const auth of [roomToken('elsewhere', 'viewer'), roomToken(`rec-${id}-x`, 'viewer'), roomToken(`rec-${id}`, 'publisher')]) {
      const res = await apiCall<ErrorBody>(base, 'GET', `/jobs/${id}/video`, { auth });
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 403, code: 'forbidden' });
    }
    // The job routes other than the video are an admin's, whatever the room.
    expect((await apiCall<ErrorBody>(base, 'GET', `/jobs/${id}`, { auth: roomToken(`rec-${id}`, 'viewer') })).status).toBe(403);
    expect((await apiCall<ErrorBody>(base, 'GET', '/jobs/no-such-job/video')).body.error.code).toBe('not_found');
    expect((await apiCall<ErrorBody>(base, 'GET', '/jobs/no-such-job')).status).toBe(404);
  });

  it('cancel, then cancel again: 409 job_ended; DELETE erases the video and the job (204, then 404)', async () => {
    const id = uploaded.jobId;
    const cancelled = await apiCall<JobInfo>(base, 'POST', `/jobs/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const again = await apiCall<ErrorBody>(base, 'POST', `/jobs/${id}/cancel`);
    expect({ status: again.status, code: again.body.error.code }).toEqual({ status: 409, code: 'job_ended' });
    expect(held()).toContain(`${id}.video`);
    const deleted = await apiCall(base, 'DELETE', `/jobs/${id}`);
    expect(deleted.status).toBe(204);
    expect(held()).not.toContain(`${id}.video`);
    expect((await apiCall(base, 'GET', `/jobs/${id}`)).status).toBe(404);
    expect((await apiCall(base, 'GET', `/jobs/${id}/video`)).status).toBe(404);
    expect((await apiCall(base, 'DELETE', `/jobs/${id}`)).status).toBe(404);
  });

  it('a large upload is streamed to disk, not held: 128 MiB through a gateway with the default limit adds little to its RSS', async () => {
    const roomyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-jobs-roomy-'));
    const roomy = await startService('gateway', nats.url, { ...TEST_GATEWAY_ENV, INSTANCE_ID: 'gateway-roomy', JOBS_DIR: roomyDir });
    try {
      const rssMiB = async () => (await processRssBytes(roomy.child.pid!))! / 2 ** 20;
      // Warm the route (and ffprobe's first run) so what is measured is the body.
      expect((await apiCall(`http://127.0.0.1:${roomy.httpPort}`, 'POST', '/jobs', { body: VIDEO, headers: { 'content-type': 'video/webm' } })).status).toBe(201);
      const before = await rssMiB();
      // The fixture, then zeros: a valid header (12 s), and a body far larger than any buffer.
      const padding = 128 * 2 ** 20;
      const res = await rawPost<JobInfo>(new URL(`http://127.0.0.1:${roomy.httpPort}${API_PREFIX}/jobs`), { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'video/webm' }, (req) => {
        const zeros = Buffer.alloc(2 ** 20);
        let sent = 0;
        req.write(VIDEO);
        const pump = () => {
          while (sent < padding) {
            sent += zeros.length;
            if (!req.write(zeros)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
      const after = await rssMiB();
      console.log(`uploaded ${((VIDEO.length + padding) / 2 ** 20).toFixed(1)} MiB; gateway RSS ${before.toFixed(1)} → ${after.toFixed(1)} MiB`);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ bytes: VIDEO.length + padding, durationMs: VIDEO_MS });
      expect(fs.statSync(path.join(roomyDir, `${res.body.jobId}.video`)).size).toBe(VIDEO.length + padding);
      // Buffered, the body alone would add 128 MiB. Streamed, what grows is the allocator's
      // keep of 2048 freed 64 KiB read buffers (30–40 MiB seen here), not the body.
      expect(after - before).toBeLessThan(64);
    } finally {
      await roomy.stop();
      fs.rmSync(roomyDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a gateway whose JOBS_DIR cannot be written runs the rest and answers job requests 503 saying why', async () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-jobs-off-'));
    // A directory cannot be made under a regular file (a read-only root gives EROFS the same way; root ignores permissions).
    fs.writeFileSync(path.join(scratch, 'not-a-dir'), '');
    const off = await startService('gateway', nats.url, { ...TEST_GATEWAY_ENV, INSTANCE_ID: 'gateway-jobs-off', JOBS_DIR: path.join(scratch, 'not-a-dir', 'jobs') });
    try {
      const at = `http://127.0.0.1:${off.httpPort}`;
      expect((await off.get('/readyz')).status).toBe(200);
      const listed = await apiCall<{ error: { code: string; message: string } }>(at, 'GET', '/jobs');
      expect(listed).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
      expect(listed.body.error.message).toMatch(/JOBS_DIR .*not-a-dir.* cannot be written/);
      expect((await apiCall(at, 'POST', '/jobs', { body: VIDEO, headers: { 'content-type': 'video/webm' } })).status).toBe(503);
      // The rest of the gateway serves.
      expect((await apiCall(at, 'GET', '/sessions')).status).toBe(200);
    } finally {
      await off.stop();
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }, 60_000);

  it('CORS: an allowed origin may name the file of an upload and read the video in ranges', async () => {
    const origin = 'https://app.example';
    const preflight = await apiCall(base, 'OPTIONS', '/jobs', { auth: null, headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-file-name, content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-File-Name/);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Range/);
    const listed = await apiCall(base, 'GET', '/jobs', { headers: { origin } });
    expect(listed.headers.get('access-control-expose-headers')).toMatch(/Content-Range/);
  });

  it('the routes are in /openapi.json: POST /jobs takes JSON (JobCreateUrl) or a video', async () => {
    const doc = (await apiCall<{ paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> }; responses: Record<string, unknown>; security?: unknown[] }>> }>(base, 'GET', '/openapi.json', { auth: null })).body;
    expect(Object.keys(doc.paths[`${API_PREFIX}/jobs`]!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths[`${API_PREFIX}/jobs`]!.post!.requestBody!.content).sort()).toEqual(['application/json', 'video/*']);
    expect(Object.keys(doc.paths[`${API_PREFIX}/jobs`]!.post!.responses)).toEqual(expect.arrayContaining(['201', '202', '413']));
    expect(doc.paths[`${API_PREFIX}/jobs/{job}/video`]!.get!.security).toContainEqual({ linkToken: [] });
    expect(Object.keys(doc.paths[`${API_PREFIX}/jobs/{job}`]!).sort()).toEqual(['delete', 'get']);
    expect(doc.paths[`${API_PREFIX}/jobs/{job}/cancel`]!.post).toBeDefined();
  });
});
