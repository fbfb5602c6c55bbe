import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { JobInfo, SessionReport } from '@lookout/contracts';
import {
  apiCall,
  artifact,
  enrollVideoPeople,
  ensureWebBuilt,
  launchChromium,
  startNatsServer,
  startService,
  stopAllProcesses,
  TEST_ADMIN_KEY,
  TEST_GATEWAY_ENV,
  TWO_PEOPLE_VIDEO,
  type NatsServer,
  type RunningService,
} from '@lookout/testkit';

/** Where the video cuts from one person to the other (test/fixtures/faces/README.md). */
const SWITCH_S = 6;
/** The player must land on the episode: half a second either way (the brief's tolerance; the sampling interval is 0.2 s). */
const SEEK_TOLERANCE_S = 0.5;
const VIEWPORT = { width: 1280, height: 800 };

/**
 * Issue 20's web part in real Chromium against real services: Sessions → "Analyse a
 * recording", the two-person video uploaded through the file input (a throttled uplink so
 * the upload bar is seen moving), the job's progress to done, its report with the player,
 * and a click on the identity-changed episode that seeks the video to about 6 s. A private
 * URL is refused with the gateway's message. Screenshots go to test-artifacts/.
 */
describe('web app: analyse a recording (Chromium; nats-server, detector, reid, gateway)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let services: RunningService[] = [];
  let base: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];
  /** WebSocket messages of the `job` feed the page received (progress over the socket, not only the poll). */
  let jobFeedMessages = 0;
  /** Serves the fixture video for the URL case (127.0.0.1, allow-listed with JOB_URL_ALLOW_HOSTS). */
  let videoServer: http.Server | undefined;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-web-recording-'));
  const shot = (name: string, fullPage = false) => page.screenshot({ path: artifact(`web-${name}.png`), fullPage });

  beforeAll(async () => {
    ensureWebBuilt();
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'web-recording-test' });
    services = await Promise.all([
      startService('detector', nats.url),
      startService('reid', nats.url),
      startService('gateway', nats.url, { ...TEST_GATEWAY_ENV, JOBS_DIR: path.join(tmp, 'jobs'), JOB_URL_ALLOW_HOSTS: '127.0.0.1' }),
    ]);
    base = `http://127.0.0.1:${services[2]!.httpPort}`;
    // Other photos of the two people than the video's frames: the cut is an identity change.
    await enrollVideoPeople(nc);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: VIEWPORT });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('websocket', (ws) => ws.on('framereceived', (f) => typeof f.payload === 'string' && f.payload.startsWith('{"type":"job"') && jobFeedMessages++));
    await page.exposeFunction('reportCspViolation', (v: string) => void cspViolations.push(v));
    await page.addInitScript(() =>
      document.addEventListener('securitypolicyviolation', (e) =>
        (window as unknown as { reportCspViolation(v: string): void }).reportCspViolation(`${e.effectiveDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`),
      ),
    );
    // Sign in through the header's form, as an operator does; reload so the page loads with the key.
    await page.goto(`${base}/#/sessions`);
    await page.getByLabel('Admin key').fill(TEST_ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.reload();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (videoServer) await new Promise((r) => videoServer!.close(r));
    await nc?.close();
    await Promise.all(services.map((s) => s.stop()));
    await stopAllProcesses();
    await nats?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  let job: JobInfo;
  let urlJob: JobInfo;

  it('uploads the two-person video with visible progress, and follows the job to done', async () => {
    await page.getByRole('button', { name: 'Analyse a recording' }).click();
    const form = page.getByTestId('recording-form');
    await form.getByLabel('Video file').setInputFiles(TWO_PEOPLE_VIDEO);
    await form.getByLabel('Name').fill('Two people (web test)');
    // A slow uplink (DevTools throttling): the upload takes about 2 s, so its bar is seen moving.
    const size = fs.statSync(TWO_PEOPLE_VIDEO).size;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: size / 2 });
    await sampleProgress(page);
    await form.getByRole('button', { name: 'Analyse', exact: true }).click();

    await page.waitForFunction(() => /[?&]job=/.test(location.hash), undefined, { timeout: 60_000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    const jobId = new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('job')!;
    await expectText(page.getByRole('heading', { level: 1 }), /Recording “?Two people \(web test\)/);
    await expectText(page.getByTestId('recording-job-status'), /^Done: \d+ frames analysed/, 240_000);

    const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    console.log(`recording progress states (upload % | job fraction | status): ${seen.join('  ')}; job feed messages over the WebSocket: ${jobFeedMessages}`);
    const uploads = seen.map((s) => Number(s.split('|')[0])).filter((v) => !Number.isNaN(v));
    expect(uploads.some((v) => v > 0 && v < 100)).toBe(true);
    expect(await page.locator('#recording-job-progress').evaluate((p: HTMLProgressElement) => p.value)).toBe(1);

    // The page says what the API says.
    const r = await apiCall<JobInfo>(base, 'GET', `/jobs/${jobId}`);
    expect(r.status).toBe(200);
    job = r.body;
    expect(job).toMatchObject({ status: 'done', name: 'Two people (web test)', source: { kind: 'upload', fileName: path.basename(TWO_PEOPLE_VIDEO) } });
    expect(job.framesDone).toBe(job.framesTotal);
    await expectText(page.getByTestId('recording-job-status'), new RegExp(`^Done: ${job.framesDone} frames analysed`));
    await shot('recording-job');
  }, 300_000);

  it('opens the report: the identity change at about 0:06 video time; clicking it seeks the player there', async () => {
    await page.getByRole('link', { name: 'Open the report' }).click();
    const episodes = page.getByTestId('alert-episodes');
    const row = episodes.locator('tbody tr').filter({ hasText: 'identity changed' }).first();
    await row.waitFor({ timeout: 30_000 });
    const seek = row.getByRole('button', { name: /^Play the recording from / });
    await expectText(seek, /0:0[56]/);

    // The report's video time of the episode (the API's): the cut, within the tolerance.
    const report = (await apiCall<SessionReport>(base, 'GET', `/sessions/${job.sessionId}/report`)).body;
    const change = report.alerts.find((a) => a.kind === 'identity_changed');
    expect(change).toBeDefined();
    const videoMs = change!.videoMs ?? change!.startMs - report.session.recording!.videoBaseMs;
    console.log(`identity_changed at video time ${videoMs} ms (report), button ${await seek.innerText()}`);
    expect(Math.abs(videoMs / 1000 - SWITCH_S)).toBeLessThanOrEqual(SEEK_TOLERANCE_S);

    // The player streams the held video through a viewer-token link (not the admin key).
    const video = page.locator('[data-testid=recording-player] video');
    await page.waitForFunction(() => ((document.querySelector('[data-testid=recording-player] video') as HTMLVideoElement | null)?.readyState ?? 0) >= 1, undefined, { timeout: 30_000 });
    const src = await video.evaluate((v: HTMLVideoElement) => v.currentSrc);
    console.log(`player source: ${src.replace(/token=[^&]+/, 'token=…')}`);
    expect(src).toMatch(new RegExp(`/jobs/${job.jobId}/video\\?token=`));
    expect(src).not.toContain(TEST_ADMIN_KEY);

    await seek.click();
    const at = await settledTime(page);
    console.log(`player currentTime after the click: ${at.toFixed(3)} s`);
    expect(Math.abs(at - SWITCH_S)).toBeLessThanOrEqual(SEEK_TOLERANCE_S);
    expect(Math.abs(at - videoMs / 1000)).toBeLessThan(0.05);
    await page.getByTestId('recording-player').scrollIntoViewIfNeeded();
    await shot('recording-report-seeked');
    await shot('recording-report', true);

    // A click on a timeline seeks too: early in the chart is early in the video.
    const over = page.locator('[data-testid=chart-scores] .u-over');
    const box = (await over.boundingBox())!;
    await over.click({ position: { x: box.width * 0.1, y: box.height / 2 } });
    await page.waitForFunction((prev) => Math.abs((document.querySelector('[data-testid=recording-player] video') as HTMLVideoElement).currentTime - prev) > 0.5, at);
    const early = await settledTime(page);
    expect(early).toBeLessThan(at);
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 120_000);

  it('a private-range URL is refused, with the gateway\'s message shown', async () => {
    await page.goto(`${base}/#/sessions`);
    await page.getByRole('button', { name: 'Analyse a recording' }).click();
    const form = page.getByTestId('recording-form');
    await form.getByLabel('a URL').check();
    await form.getByLabel('Video URL').fill('http://10.20.30.40/exam.webm');
    await form.getByRole('button', { name: 'Analyse', exact: true }).click();
    await expectText(form.getByRole('alert'), /not allowed|private/i);
    console.log(`private URL: ${await form.getByRole('alert').innerText()}`);
    // Nothing was created for it; the list shows the uploaded job.
    const jobs = (await apiCall<{ jobs: JobInfo[] }>(base, 'GET', '/jobs')).body.jobs;
    expect(jobs.map((j) => j.jobId)).toEqual([job.jobId]);
    await expectText(page.getByTestId('recording-jobs'), /Two people \(web test\)\s+done/);
    await shot('recording-refused');
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });

  it('a URL job (a local HTTP server, allow-listed) is downloaded and analysed the same way', async () => {
    videoServer = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/webm', 'content-length': fs.statSync(TWO_PEOPLE_VIDEO).size });
      fs.createReadStream(TWO_PEOPLE_VIDEO).pipe(res);
    });
    await new Promise<void>((r) => videoServer!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(videoServer.address() as AddressInfo).port}/interview.webm`;
    // A fresh document, the form open from the link.
    await page.goto('about:blank');
    await page.goto(`${base}/#/sessions?analyse=1`);
    const form = page.getByTestId('recording-form');
    await form.getByLabel('a URL').check();
    await form.getByLabel('Video URL').fill(url);
    await form.getByRole('button', { name: 'Analyse', exact: true }).click();
    await expectText(page.getByRole('heading', { level: 1 }), /Recording “?interview\.webm/);
    await expectText(page.getByTestId('recording-job-status'), /^Done: \d+ frames analysed/, 240_000);
    const jobId = new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('job')!;
    const info = (urlJob = (await apiCall<JobInfo>(base, 'GET', `/jobs/${jobId}`)).body);
    expect(info).toMatchObject({ status: 'done', source: { kind: 'url', url } });
    expect(info.framesDone).toBe(info.framesTotal);
    await page.getByRole('link', { name: 'Open the report' }).click();
    const row = page.getByTestId('alert-episodes').locator('tbody tr').filter({ hasText: 'identity changed' }).first();
    await row.waitFor({ timeout: 30_000 });
    await expectText(row.getByRole('button', { name: /^Play the recording from / }), /0:0[56]/);
    expect(pageErrors).toEqual([]);
  }, 300_000);

  it('the form, the job and the report fit a 1024 × 768 laptop screen without sideways scrolling', async () => {
    const pages = { 'recording-form': '#/sessions?analyse=1', 'recording-job': `#/sessions?job=${job.jobId}`, 'recording-report': `#/sessions?session=${job.sessionId}` };
    await page.setViewportSize({ width: 1024, height: 768 });
    for (const [name, hash] of Object.entries(pages)) {
      await page.goto(`${base}/${hash}`);
      await page.locator('main h2').first().waitFor();
      if (name === 'recording-report') await page.getByTestId('alert-episodes').waitFor();
      await shot(`${name}-1024`, true);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect({ name, overflow }).toEqual({ name, overflow: 0 });
    }
    await page.setViewportSize(VIEWPORT);
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });

  it('deletes a job from its page after a second click; its report stays', async () => {
    await page.goto(`${base}/#/sessions?job=${urlJob.jobId}`);
    await page.getByRole('button', { name: 'Delete job' }).click();
    // The safe choice is beside the confirmation, which has the focus.
    await page.getByRole('button', { name: 'Keep it' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Yes, delete');
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.waitForFunction(() => location.hash === '#/sessions');
    await expectText(page.getByTestId('recording-jobs'), /Two people \(web test\)/);
    expect(await page.getByTestId('recording-jobs').innerText()).not.toContain('interview.webm');
    expect((await apiCall(base, 'GET', `/jobs/${urlJob.jobId}`)).status).toBe(404);
    expect((await apiCall(base, 'GET', `/sessions/${urlJob.sessionId}/report`)).status).toBe(200);
    expect(pageErrors).toEqual([]);
  });
});

/** Records, in the page, every state the upload bar, the job bar and the status line go through. */
async function sampleProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { progressSeen: string[] }).progressSeen = seen;
    setInterval(() => {
      const up = document.querySelector<HTMLProgressElement>('#recording-upload-progress');
      const job = document.querySelector<HTMLProgressElement>('#recording-job-progress');
      const status = document.querySelector('[data-testid=recording-job-status]')?.textContent ?? '';
      const s = `${up ? up.value : '-'}|${job ? job.value.toFixed(2) : '-'}|${status.split(',')[0]}`;
      if (s !== '-|-|' && seen.at(-1) !== s) seen.push(s);
    }, 20);
  });
}

/** The player's position once its seek is over. */
async function settledTime(page: Page): Promise<number> {
  const handle = await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid=recording-player] video') as HTMLVideoElement;
    // An object: a position of 0 is an answer too.
    return !v.seeking && v.readyState >= 1 ? { t: v.currentTime } : false;
  });
  return ((await handle.jsonValue()) as { t: number }).t;
}

/** Waits until the locator's text matches (Playwright's expect is not used with jest). */
async function expectText(locator: Locator, re: RegExp, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  let last = '';
  while (Date.now() < deadline) {
    last = (await locator.innerText({ timeout: 1000 }).catch(() => '')).replace(/\s+/g, ' ').trim();
    if (re.test(last)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`expected ${re} in ${JSON.stringify(last)}`);
}
