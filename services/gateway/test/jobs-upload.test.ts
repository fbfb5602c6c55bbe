import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { LookoutError, type JobInfo, type JobSource } from '@lookout/contracts';
import { createLogger } from '@lookout/service-kit';
import { rawPost } from '@lookout/testkit';
import { toHttpError } from '../src/http/errors.js';
import { JobIntake, uploadFileName, type JobsPort } from '../src/jobs/intake.js';
import { DestinationPolicy } from '../src/webhooks/destination.js';

const LIMIT = 4 * 1024 * 1024;
const log = createLogger('gateway-test', 'silent', 'test');

/** The job engine's side as the intake sees it, recording what it is told (the engine itself: C1's tests). */
class RecordingJobs implements JobsPort {
  readonly created: Array<{ source: JobSource; name: string; fps: number; expectedSubjectId?: string }> = [];
  readonly bytes: number[] = [];
  readonly ready: number[] = [];
  readonly failed: LookoutError[] = [];
  private failedWaiters: Array<() => void> = [];
  private n = 0;
  constructor(private readonly dir: string) {}

  async create(input: { source: JobSource; name: string; fps: number; expectedSubjectId?: string }) {
    this.created.push(input);
    const jobId = `j${++this.n}`;
    return { info: this.info(jobId, input.name), videoPath: path.join(this.dir, `${jobId}.video`) };
  }
  setBytes(_id: string, bytes: number): void {
    this.bytes.push(bytes);
  }
  async mediaReady(jobId: string, bytes: number): Promise<JobInfo> {
    this.ready.push(bytes);
    return { ...this.info(jobId, 'x'), bytes };
  }
  async mediaFailed(_id: string, err: LookoutError): Promise<void> {
    this.failed.push(err);
    for (const w of this.failedWaiters.splice(0)) w();
  }
  /** Resolves once a failure has been recorded. */
  nextFailure(): Promise<void> {
    return this.failed.length ? Promise.resolve() : new Promise((resolve) => this.failedWaiters.push(resolve));
  }
  get = async () => undefined;
  list = async () => [];
  cancel = async (): Promise<JobInfo> => Promise.reject(new LookoutError('not_found', 'x'));
  remove = async () => undefined;
  videoFile = () => undefined;

  private info(jobId: string, name: string): JobInfo {
    return { jobId, name, room: `rec-${jobId}`, stream: 'video', sessionId: `s-${jobId}`, source: { kind: 'upload' }, status: 'queued', fps: 5, createdMs: 1, framesDone: 0, framesFailed: 0 };
  }
}

/** A server with the intake's upload route, as the gateway mounts it (query parser 'simple'). */
async function server(jobs: JobsPort): Promise<{ url: URL; close: () => Promise<void> }> {
  const intake = new JobIntake({ jobs, policy: new DestinationPolicy(''), maxBytes: LIMIT, fetchTimeoutMs: 10_000, log });
  const app = express();
  app.set('query parser', 'simple');
  app.post('/jobs', (req, res) => {
    intake.upload(req).then(
      (info) => res.status(201).json(info),
      (err: unknown) => {
        const { status, body } = toHttpError(err);
        if (!res.headersSent && !res.destroyed) res.status(status).json(body);
      },
    );
  });
  const s = http.createServer(app);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    url: new URL(`http://127.0.0.1:${(s.address() as AddressInfo).port}/jobs`),
    close: () => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(() => resolve()));
    },
  };
}

type Answer = { error?: { code: string; message: string; field?: string }; bytes?: number };
const files = (dir: string) => fs.readdirSync(dir);

describe('recording upload: streamed to disk, its limit enforced before and while it arrives', () => {
  let dir: string;
  let jobs: RecordingJobs;
  let s: Awaited<ReturnType<typeof server>>;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobs-upload-'));
    jobs = new RecordingJobs(dir);
    s = await server(jobs);
  });
  afterEach(async () => {
    await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores the body byte for byte (chunked, several MiB), reports progress, and hands the size to mediaReady', async () => {
    const data = Buffer.alloc(LIMIT - 1000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    const r = await rawPost<Answer>(new URL(`${s.url.href}?fps=2.5&name=Interview`), { 'content-type': 'video/webm', 'x-file-name': encodeURIComponent('entretien été.webm') }, (req) => {
      for (let off = 0; off < data.length; off += 100_000) req.write(data.subarray(off, off + 100_000));
      req.end();
    });
    expect(r.status).toBe(201);
    expect(r.body.bytes).toBe(data.length);
    expect(jobs.created).toEqual([{ source: { kind: 'upload', fileName: 'entretien été.webm' }, name: 'Interview', fps: 2.5 }]);
    const stored = fs.readFileSync(path.join(dir, 'j1.video'));
    expect(createHash('sha256').update(stored).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(jobs.bytes.at(-1)).toBe(data.length);
    expect(jobs.bytes.length).toBeGreaterThan(2);
    expect(jobs.ready).toEqual([data.length]);
  });

  it('names the job after the file when no name is given; fps defaults to 5', async () => {
    const r = await rawPost<Answer>(s.url, { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment; filename="../../etc/clip.mp4"' }, (req) => req.end(Buffer.alloc(10, 1)));
    expect(r.status).toBe(201);
    expect(jobs.created[0]).toEqual({ source: { kind: 'upload', fileName: 'clip.mp4' }, name: 'clip.mp4', fps: 5 });
  });

  it('refuses a Content-Length over JOB_MAX_BYTES before a byte is read, and makes no job', async () => {
    const r = await rawPost<Answer>(s.url, { 'content-type': 'video/mp4', 'content-length': String(LIMIT + 1) }, (req) => req.flushHeaders());
    expect(r.status).toBe(413);
    expect(r.body.error).toMatchObject({ code: 'body_too_large', message: expect.stringContaining('JOB_MAX_BYTES') });
    expect(jobs.created).toEqual([]);
    expect(files(dir)).toEqual([]);
  });

  it('refuses a chunked body the moment it passes the limit, while the client still sends; the job fails and its file is erased', async () => {
    let chunks = 0;
    let answered = false;
    const r = await rawPost<Answer>(s.url, { 'content-type': 'video/webm' }, (req) => {
      req.on('response', () => (answered = true));
      const pump = () => {
        while (!answered && chunks < 100_000) {
          chunks++;
          if (!req.write(Buffer.alloc(64 * 1024, 3))) return void req.once('drain', pump);
        }
        if (!req.destroyed) req.end();
      };
      pump();
    });
    expect(r.status).toBe(413);
    expect(r.body.error?.code).toBe('body_too_large');
    expect(chunks).toBeLessThan(100_000);
    expect(jobs.failed.map((e) => e.code)).toEqual(['body_too_large']);
    expect(jobs.ready).toEqual([]);
    expect(files(dir)).toEqual([]);
  });

  it('a client that goes away mid-upload fails the job and leaves no file', async () => {
    const failed = jobs.nextFailure();
    const req = http.request(s.url, { method: 'POST', headers: { 'content-type': 'video/webm', 'content-length': String(LIMIT) }, agent: false });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(256 * 1024, 4), () => {
      // The server has the first bytes (the job exists) before the client goes.
      const waitForJob = () => (jobs.created.length ? req.destroy() : setImmediate(waitForJob));
      waitForJob();
    });
    await failed;
    expect(jobs.failed.map((e) => [e.code, e.message])).toEqual([['bad_request', expect.stringContaining('body: the upload broke off')]]);
    expect(jobs.ready).toEqual([]);
    // The file is removed before the failure is recorded.
    expect(files(dir)).toEqual([]);
  });

  it.each([
    [{ 'content-type': 'image/jpeg' }, '', 415, 'unsupported_media_type'],
    [{ 'content-type': 'video/webm', 'content-encoding': 'gzip' }, '', 415, 'unsupported_encoding'],
    [{ 'content-type': 'video/webm' }, '?fps=50', 400, 'invalid_request'],
    [{ 'content-type': 'video/webm' }, '?fps=abc', 400, 'invalid_request'],
    [{ 'content-type': 'video/webm' }, '?colour=blue', 400, 'invalid_request'],
    [{ 'content-type': 'video/webm', 'content-length': '0' }, '', 400, 'invalid_request'],
  ])('refuses %j %s before making a job (%i %s)', async (given, query, status, code) => {
    const headers = given as Record<string, string>;
    const r = await rawPost<Answer>(new URL(`${s.url.href}${query}`), headers, (req) => req.end(headers['content-length'] === '0' ? undefined : Buffer.alloc(100)));
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status, code });
    expect(jobs.created).toEqual([]);
  });
});

describe('uploadFileName', () => {
  const name = (headers: Record<string, string>) => uploadFileName({ headers });
  it('reads X-File-Name (URI-encoded), then Content-Disposition filename* and filename', () => {
    expect(name({ 'x-file-name': 'caf%C3%A9%201.webm' })).toBe('café 1.webm');
    expect(name({ 'content-disposition': "attachment; filename*=UTF-8''r%C3%A9union.mp4; filename=\"x.mp4\"" })).toBe('réunion.mp4');
    expect(name({ 'content-disposition': 'attachment; filename="a \\"quoted\\" name.webm"' })).toBe('a "quoted" name.webm');
    expect(name({ 'content-disposition': 'attachment; filename=plain.webm' })).toBe('plain.webm');
  });
  it('keeps the last path segment only, without control characters; none when unusable', () => {
    expect(name({ 'x-file-name': '..%2F..%2Fetc%2Fpasswd' })).toBe('passwd');
    expect(name({ 'x-file-name': 'C%3A%5Cvideos%5Cexam.webm' })).toBe('exam.webm');
    expect(name({ 'x-file-name': 'a%0Ab.webm' })).toBe('ab.webm');
    expect(name({ 'x-file-name': '%E0%A4%A' })).toBeUndefined();
    expect(name({ 'x-file-name': '..' })).toBeUndefined();
    expect(name({})).toBeUndefined();
    expect(name({ 'x-file-name': 'x'.repeat(400) })).toHaveLength(255);
  });
});
