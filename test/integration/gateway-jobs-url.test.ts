import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeJson, jobInfo, type JobInfo, type SessionReport } from '@lookout/contracts';
import { apiCall, enrollVideoPeople, startNatsServer, startService, stopAllProcesses, TEST_GATEWAY_ENV, TWO_PEOPLE_VIDEO, type NatsServer, type RunningService } from '@lookout/testkit';

/** The fixture's length and its cut from one person to the other (test/fixtures/faces/README.md). */
const VIDEO_MS = 12_000;
const SWITCH_VIDEO_MS = 6000;
const FPS = 5;
const FRAMES = (VIDEO_MS / 1000) * FPS;

/**
 * Issue 20's "a URL job against a local HTTP server does the same": the two-person video
 * served by a local HTTP server (allow-listed, as loopback must be), fetched by the
 * gateway through a redirect, analysed by a real detector and reid into the session
 * report, with the identity change at 6 s of video time (± one sample interval).
 */
describe('a URL job end to end (real nats-server, detector, reid, gateway; the video from a local HTTP server)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  const services: RunningService[] = [];
  let base: string;
  let jobsDir: string;
  let origin: http.Server;
  const served: string[] = [];
  const finished = new Map<string, JobInfo>();
  const waiters = new Map<string, (j: JobInfo) => void>();

  beforeAll(async () => {
    jobsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-jobs-url-'));
    origin = http.createServer((req, res) => {
      served.push(req.url ?? '');
      // A redirect first, as video hosts do (a CDN), then the file streamed.
      if (req.url === '/watch/interview') return void res.writeHead(302, { location: '/media/interview.webm' }).end();
      res.writeHead(200, { 'content-type': 'video/webm', 'content-length': String(fs.statSync(TWO_PEOPLE_VIDEO).size) });
      fs.createReadStream(TWO_PEOPLE_VIDEO).pipe(res);
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'gateway-jobs-url-test' });
    nc.subscribe('jobs.>', {
      callback: (_e, m) => {
        const j = decodeJson(jobInfo, m.data);
        if (j.status !== 'done' && j.status !== 'failed' && j.status !== 'cancelled') return;
        finished.set(j.jobId, j);
        waiters.get(j.jobId)?.(j);
      },
    });
    services.push(
      ...(await Promise.all([
        startService('detector', nats.url),
        startService('reid', nats.url),
        startService('gateway', nats.url, { ...TEST_GATEWAY_ENV, JOBS_DIR: jobsDir, JOB_URL_ALLOW_HOSTS: '127.0.0.1' }),
      ])),
    );
    base = `http://127.0.0.1:${services[2]!.httpPort}`;
    await enrollVideoPeople(nc);
  }, 180_000);

  afterAll(async () => {
    await nc?.close();
    await Promise.all(services.map((s) => s.stop()));
    await stopAllProcesses();
    await nats?.stop();
    origin?.closeAllConnections();
    await new Promise((resolve) => origin?.close(resolve));
    if (jobsDir) fs.rmSync(jobsDir, { recursive: true, force: true });
  });

  const ended = (jobId: string): Promise<JobInfo> => {
    const seen = finished.get(jobId);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.set(jobId, resolve));
  };

  it('is fetched, analysed into the session report, with the identity change at 6 s of video time', async () => {
    const t0 = Date.now();
    const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/watch/interview`;
    const created = await apiCall<JobInfo>(base, 'POST', '/jobs', { json: { url, fps: FPS, expectedSubjectId: 'obama' } });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ status: 'fetching', source: { kind: 'url', url }, name: 'interview' });
    const done = await ended(created.body.jobId);
    const wallMs = Date.now() - t0;
    expect(served).toEqual(['/watch/interview', '/media/interview.webm']);
    expect(done).toMatchObject({ status: 'done', durationMs: VIDEO_MS, framesDone: FRAMES, framesTotal: FRAMES, framesFailed: 0 });

    const report = (await apiCall<SessionReport>(base, 'GET', `/sessions/${done.sessionId}/report`)).body;
    const changes = report.alerts.filter((a) => a.kind === 'identity_changed');
    console.log(`URL job: ${VIDEO_MS / 1000} s of video fetched and analysed in ${(wallMs / 1000).toFixed(1)} s of wall time (${(VIDEO_MS / wallMs).toFixed(2)} video s per s); identity_changed at ${changes.map((a) => a.videoMs).join(', ')} ms`);
    expect(report.framesAnalysed).toBe(FRAMES);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ from: { subjectId: 'obama' }, to: { subjectId: 'jolie' } });
    expect(Math.abs(changes[0]!.videoMs! - SWITCH_VIDEO_MS)).toBeLessThanOrEqual(1000 / FPS);
    // The video is held for the report's player.
    expect((await apiCall(base, 'GET', `/jobs/${done.jobId}/video`, { headers: { range: 'bytes=0-3' } })).status).toBe(206);
  }, 300_000);
});
