import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { alertEvent, encodeJson, eventMsgId, recognitionEvent, streamMetricsEvent, subjects, type AlertEvent, type RecognitionEvent, type SessionInfo, type StreamMetricsEvent } from '@lookout/contracts';
import { apiCall, buildZip, FIXTURES, launchChromium, ROOT, startNatsServer, startService, stopAllProcesses, TEST_ADMIN_KEY, TEST_GATEWAY_ENV, type NatsServer, type RunningService } from '@lookout/testkit';

const FACES = path.join(FIXTURES, 'faces');
const face = (rel: string) => path.join(FACES, rel);
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const VIEWPORT = { width: 1280, height: 800 };

/**
 * The admin pages of the web app in real Chromium against real services: Gallery (file,
 * camera and ZIP enrollment, rename, delete), Sessions (live view, end, report with uPlot
 * charts) and Settings (sample rate, analyzers, thresholds). Screenshots go to test-artifacts/.
 */
describe('web app admin pages (Chromium; nats-server, detector, reid, sfu, gateway)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let services: RunningService[] = [];
  let base: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  /** Content-Security-Policy violations on any page the tests open (the gateway's CSP must not break the app). */
  const cspViolations: string[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-web-admin-'));
  const shot = (name: string, fullPage = false) => page.screenshot({ path: path.join(ARTIFACTS, `web-${name}.png`), fullPage });

  beforeAll(async () => {
    if (!fs.existsSync(path.join(ROOT, 'web/dist/index.html'))) throw new Error('web/dist is missing: run `npm run build -w web` first');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    // The fake camera shows a face, so the snapshot enrollment has something to find.
    const y4m = path.join(tmp, 'camera.y4m');
    execFileSync('ffmpeg', ['-loglevel', 'error', '-loop', '1', '-i', face('identities/jeff_bezos/df_img20.jpg'), '-t', '1', '-r', '5', '-vf', 'scale=640:640', '-pix_fmt', 'yuv420p', y4m]);
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'web-admin-test' });
    services = await Promise.all([
      startService('detector', nats.url),
      startService('reid', nats.url),
      startService('sfu', nats.url, { MEDIASOUP_WORKERS: '1', RTC_LISTEN_IP: '127.0.0.1' }),
      startService('gateway', nats.url, TEST_GATEWAY_ENV),
    ]);
    base = `http://127.0.0.1:${services[3]!.httpPort}`;
    browser = await launchChromium(y4m);
    page = await browser.newPage({ viewport: VIEWPORT });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.exposeFunction('reportCspViolation', (v: string) => void cspViolations.push(v));
    await page.addInitScript(() =>
      document.addEventListener('securitypolicyviolation', (e) =>
        (window as unknown as { reportCspViolation(v: string): void }).reportCspViolation(`${e.effectiveDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`),
      ),
    );
    // Sign in through the header's form; the key stays in this tab's sessionStorage for the next pages.
    await page.goto(`${base}/#/gallery`);
    await page.getByLabel('Admin key').fill(TEST_ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    // Pages read the key when they fetch: reload so the Gallery's first load has it.
    await page.reload();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await nc?.close();
    await Promise.all(services.map((s) => s.stop()));
    await stopAllProcesses();
    await nats?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('Gallery: enrolls from a camera snapshot and from files (a verdict per photo), renames, deletes after confirming', async () => {
    const form = page.getByTestId('enroll-form');
    await form.getByRole('button', { name: 'Use camera' }).click();
    await page.waitForFunction(() => (document.querySelector('.gallery-camera video') as HTMLVideoElement | null)?.videoWidth);
    await form.getByRole('button', { name: 'Take snapshot' }).click();
    await form.getByRole('img', { name: 'Snapshot camera-1.jpg' }).waitFor();
    await form.getByRole('button', { name: 'Close camera' }).click();
    await form.getByLabel('Name').fill('Jeff from the camera');
    await form.getByRole('button', { name: 'Enroll' }).click();
    await expectText(form.getByRole('status'), /Enrolled Jeff from the camera \(\S+\): 1 of 1 photo used/);

    await form.getByLabel('Name').fill('Barack Obama');
    await form.getByLabel('Photos').setInputFiles([face('identities/barack_obama/fr_obama.jpg'), face('group/fr_obama_and_biden.jpg')]);
    // The API's refusal is shown with its field, and the field is marked.
    await form.getByLabel('Metadata').fill('{oops');
    await form.getByRole('button', { name: 'Enroll' }).click();
    await expectText(form.getByRole('alert'), /\(field: metadata\)/);
    expect(await form.getByLabel('Metadata').getAttribute('aria-invalid')).toBe('true');
    await form.getByLabel('Metadata').fill('{"office": "oval"}');
    await form.getByRole('button', { name: 'Enroll' }).click();
    await expectText(form.getByRole('status'), /Enrolled Barack Obama \(\S+\): 1 of 2 photos used/);
    const verdicts = form.getByRole('list', { name: 'Photo results' });
    await expectText(verdicts, /used fr_obama\.jpg/);
    await expectText(verdicts, /not used fr_obama_and_biden\.jpg — several faces/);
    const subjects = page.getByTestId('subjects');
    await subjects.getByRole('rowheader', { name: 'Barack Obama' }).waitFor();

    await page.getByRole('button', { name: 'Rename Barack Obama' }).click();
    const rename = page.getByLabel('New name for Barack Obama');
    await rename.fill('President Obama');
    await rename.press('Enter');
    await subjects.getByRole('rowheader', { name: 'President Obama' }).waitFor();
    await expectText(page.locator('.gallery-subjects [role=status]'), /Renamed Barack Obama to President Obama/);
    await shot('gallery');

    await page.getByRole('button', { name: 'Delete President Obama' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete President Obama?' });
    await dialog.waitFor();
    // The safe choice has the focus and Escape cancels: nothing is deleted. Then confirm.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await subjects.getByRole('rowheader', { name: 'President Obama' }).waitFor();
    await page.getByRole('button', { name: 'Delete President Obama' }).click();
    await page.getByRole('dialog').waitFor();
    await shot('gallery-delete');
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await expectText(page.locator('.gallery-subjects [role=status]'), /Deleted President Obama/);
    await subjects.getByRole('rowheader', { name: 'President Obama' }).waitFor({ state: 'detached' });
    const listed = await apiCall<{ subjects: Array<{ name: string }> }>(base, 'GET', '/gallery/subjects');
    expect(listed.body.subjects.map((s) => s.name)).toEqual(['Jeff from the camera']);
  });

  it('Gallery: a ZIP of 3 people and a text file shows upload and enrollment progress, then a result per file', async () => {
    const read = (rel: string) => fs.readFileSync(face(rel));
    const zip = buildZip([
      { name: 'katy_perry/portrait.jpg', data: read('identities/katy_perry/df_img26.jpg'), store: true },
      { name: 'george_clooney_1.jpg', data: read('identities/george_clooney/df_img38.jpg'), store: true },
      { name: 'scarlett_johansson/a.jpg', data: read('identities/scarlett_johansson/' + fs.readdirSync(face('identities/scarlett_johansson')).sort()[0]), store: true },
      { name: 'notes.txt', data: Buffer.from('please enroll everyone') },
    ]);
    const file = path.join(tmp, 'people.zip');
    fs.writeFileSync(file, zip);
    // A slow uplink (DevTools throttling) so the upload bar has time to move.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: zip.length / 1.5 });
    // Every state the two bars go through, sampled in the page.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      setInterval(() => {
        const up = document.querySelector<HTMLProgressElement>('#zip-upload-progress');
        const job = document.querySelector<HTMLProgressElement>('#zip-job-progress');
        const s = up && job ? `${up.value}|${job.value}/${job.max}` : '';
        if (s && seen.at(-1) !== s) seen.push(s);
      }, 20);
    });
    const zipForm = page.getByTestId('zip-form');
    await zipForm.getByLabel('ZIP archive').setInputFiles(file);
    await zipForm.getByRole('button', { name: 'Upload and enroll' }).click();
    await expectText(zipForm.getByRole('status'), /Done: 3 enrolled, 1 rejected/, 60_000);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    console.log(`ZIP progress states: ${seen.join('  ')}`);
    const uploads = seen.map((s) => Number(s.split('|')[0]));
    expect(uploads.some((v) => v > 0 && v < 100)).toBe(true);
    // The final state, read from the page (the sampler may not have ticked since).
    const final = await page.evaluate(() => [...document.querySelectorAll<HTMLProgressElement>('.gallery-progress progress')].map((p) => `${p.value}/${p.max}`));
    expect(final).toEqual(['100/100', '4/4']);

    const rows = await zipForm.getByTestId('zip-results').locator('tbody tr').allInnerTexts();
    const byEntry = Object.fromEntries(rows.map((r) => [r.split('\t')[0], r]));
    expect(Object.keys(byEntry).sort()).toEqual(['george_clooney_1.jpg', 'katy_perry/portrait.jpg', 'notes.txt', 'scarlett_johansson/a.jpg']);
    expect(byEntry['katy_perry/portrait.jpg']).toMatch(/katy perry\s+ok/);
    expect(byEntry['george_clooney_1.jpg']).toMatch(/george clooney\s+ok/);
    expect(byEntry['scarlett_johansson/a.jpg']).toMatch(/scarlett johansson\s+ok/);
    expect(byEntry['notes.txt']).toMatch(/rejected\s+not an image file: .*\(not an image\)/);
    await page.getByTestId('subjects').getByRole('rowheader', { name: 'katy perry' }).waitFor();
    await zipForm.scrollIntoViewIfNeeded();
    await shot('zip');
  }, 90_000);

  let session: SessionInfo;
  let events: ReturnType<typeof syntheticEvents>;

  it('Sessions: a running session is listed and shown live: uPlot charts, an open episode', async () => {
    const enrolled = await apiCall<{ subject: { subjectId: string } }>(base, 'POST', '/gallery/subjects', { body: photoForm('Sundar Pichai', 'identities/sundar_pichai') });
    expect(enrolled.status).toBe(201);
    const subjectId = enrolled.body.subject.subjectId;
    const started = await apiCall<SessionInfo>(base, 'POST', '/sessions', { json: { room: 'exam-web', stream: 'cam-1', expectedSubjectId: subjectId, metadata: { candidate: 'S. Pichai', exam: 'web-101' } } });
    expect(started.status).toBe(201);
    session = started.body;
    // What reid would publish for 40 s of this stream: metrics, three episodes (one still open), a recognition.
    events = syntheticEvents(session, subjectId);
    await publish(nc, events.metrics, events.alerts, events.recognition);

    await page.goto(`${base}/#/sessions`);
    const row = page.getByTestId('sessions').getByRole('row', { name: new RegExp(session.sessionId) });
    await expectText(row, /exam-web \/ cam-1 Sundar Pichai live/);
    await row.getByRole('link', { name: session.sessionId, exact: true }).click();
    await expectText(page.getByTestId('alert-episodes'), /multiple faces .*open/);
    await page.locator('.chart-timeline .uplot canvas').nth(2).waitFor();
    await shot('session-live');
  });

  it('Sessions: ending it from the page shows the final report (charts, episodes, identity) and the printable link', async () => {
    await publish(nc, [], [{ ...events.open, state: 'closed', endMs: events.open.startMs + 3000, endSeq: events.open.startSeq + 9 }]);
    await page.getByRole('button', { name: 'End session' }).click();
    await page.getByRole('button', { name: 'Yes, end session' }).click();
    await page.getByRole('link', { name: 'Printable report (HTML)' }).waitFor();
    expect((await apiCall<SessionInfo>(base, 'GET', `/sessions/${session.sessionId}`)).body.status).toBe('ended');
    const report = page.getByTestId('session-report');
    // Three uPlot charts (scores, expression, episodes) and every episode in the table.
    expect(await report.locator('.chart-timeline .uplot canvas').count()).toBe(3);
    expect(await report.getByRole('img', { name: /^Alert episodes: 3 episodes/ }).count()).toBe(1);
    const episodes = await page.getByTestId('alert-episodes').locator('tbody tr').allInnerTexts();
    expect(episodes.map((r) => r.split('\t')[0])).toEqual(['looking away', 'no face', 'multiple faces']);
    expect(episodes.join('\n')).not.toMatch(/open/);
    // Ended a moment after it started on the gateway's clock, but its own events span 40 s.
    await expectText(report.locator('.session-facts'), /Duration 0:40/i);
    await expectText(report, /Identity verified/i);
    await expectText(report, /Sundar Pichai PASS 1/);
    const printable = await page.getByRole('link', { name: 'Printable report (HTML)' }).getAttribute('href');
    const html = await apiCall(base, 'GET', printable!.replace(/^\/api\/v1/, ''), { auth: null });
    expect(html.status).toBe(200);
    expect(html.text).toContain('looking_away');
    await shot('report', true);
    await page.emulateMedia({ media: 'print' });
    await shot('report-print', true);
    await page.emulateMedia({ media: 'screen' });
  });

  it('Sessions: one started from the form opens its live view; the list shows both', async () => {
    await page.getByRole('link', { name: 'All sessions' }).click();
    const start = page.getByRole('form', { name: 'Start a session' });
    await start.getByLabel('Room').fill('exam-web');
    await start.getByLabel('Stream').fill('cam-2');
    await start.getByLabel('Expected person').selectOption({ label: 'Sundar Pichai' });
    await start.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('button', { name: 'End session' }).waitFor();
    await page.locator('.chart-timeline .uplot').nth(1).waitFor();
    await page.getByRole('link', { name: 'All sessions' }).click();
    const rows = page.getByTestId('sessions').locator('tbody tr');
    await expectText(rows.first(), /exam-web \/ cam-2 Sundar Pichai live/);
    await expectText(rows.nth(1), /exam-web \/ cam-1 Sundar Pichai ended/);
    await shot('sessions');
  });

  it('Settings: changes the sample rate, an analyzer and thresholds; the room config holds them', async () => {
    expect((await apiCall(base, 'POST', '/rooms', { json: { room: 'web-settings' } })).status).toBe(201);
    // A fresh document: the session page before it polls its live report.
    await page.goto('about:blank');
    await page.goto(`${base}/#/settings?room=web-settings`);
    const config = page.getByTestId('room-config');
    await config.waitFor();

    // The field starts from the room's current rate; change it once that has arrived.
    const fpsField = page.getByLabel('Frames per second');
    await expectValue(fpsField, /^\d/);
    await fpsField.fill('2');
    const fps = page.waitForResponse((r) => r.url().endsWith('/rooms/web-settings/sample-rate') && r.request().method() === 'PUT');
    await page.getByRole('button', { name: 'Apply' }).click();
    expect((await fps).status()).toBe(200);
    await expectText(page.getByRole('form', { name: 'Sample rate' }).getByRole('status'), /Sampling 2 frames per second/);

    await config.getByLabel('text: state').selectOption('off');
    await config.getByLabel('expression: interval (ms)').fill('2000');
    await config.getByLabel('no face: frames').fill('7');
    await config.getByLabel('looking away: severity').selectOption('warning');
    await config.getByLabel('text visible: on').uncheck();
    await config.getByLabel('score below').fill('35');
    await config.getByRole('button', { name: 'Save settings' }).click();
    await expectText(config.getByRole('status'), /Saved the settings of web-settings/);
    const saved = await apiCall(base, 'GET', '/rooms/web-settings/config');
    expect(saved.body).toEqual({
      analyzers: { text: { enabled: false }, expression: { intervalMs: 2000 } },
      rules: { no_face: { frames: 7 }, looking_away: { severity: 'warning' }, text_visible: { enabled: false }, low_engagement: { below: 35 } },
    });

    // A fresh load shows what is stored.
    await page.reload();
    await config.waitFor();
    expect(await config.getByLabel('no face: frames').inputValue()).toBe('7');
    expect(await config.getByLabel('text: state').inputValue()).toBe('off');
    expect(await config.getByLabel('text visible: on').isChecked()).toBe(false);
    await shot('settings');
  }, 60_000);

  it('every page fits a 1024 × 768 laptop screen without sideways scrolling', async () => {
    const sessions = await apiCall<{ sessions: SessionInfo[] }>(base, 'GET', '/sessions?status=ended');
    const pages = { gallery: '#/gallery', report: `#/sessions?session=${sessions.body.sessions[0]!.sessionId}`, settings: '#/settings?room=web-settings' };
    await page.setViewportSize({ width: 1024, height: 768 });
    for (const [name, hash] of Object.entries(pages)) {
      await page.goto(`${base}/${hash}`);
      await page.locator('main h2').first().waitFor();
      await page.waitForTimeout(300);
      await shot(`${name}-1024`, true);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect({ name, overflow }).toEqual({ name, overflow: 0 });
    }
    await page.setViewportSize(VIEWPORT);
    expect(pageErrors).toEqual([]);
  });

  it('runs under the gateway\'s Content-Security-Policy (no violation on any page), never framed, the admin key only in the tab', async () => {
    await page.goto(`${base}/#/gallery`);
    // A hash change is not a new document: reload for a response with the page's headers.
    const res = await page.reload();
    await page.locator('main h2').first().waitFor();
    const headers = res!.headers();
    expect(headers['content-security-policy']).toMatch(/script-src 'self'.*frame-ancestors 'none'/);
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(cspViolations).toEqual([]);
    // Signed in (beforeAll) through the form: in sessionStorage, not in localStorage.
    expect(await page.evaluate(() => [localStorage.getItem('lookout.adminKey'), sessionStorage.getItem('lookout.adminKey')])).toEqual([null, TEST_ADMIN_KEY]);
    // Another page of the same origin framing the app gets nothing (frame-ancestors 'none').
    await page.setContent(`<iframe src="${base}/" id="f"></iframe>`);
    await page.waitForTimeout(500);
    const framed = page.frames().find((f) => f.url().startsWith(base));
    expect(await framed?.evaluate(() => document.getElementById('app')?.childElementCount ?? 0).catch(() => 0) ?? 0).toBe(0);
  });
});

/** A multipart enrollment with the first photo of a fixture folder. */
function photoForm(name: string, folder: string): FormData {
  const file = fs.readdirSync(face(folder)).sort()[0]!;
  const f = new FormData();
  f.append('name', name);
  f.append('images', new Blob([new Uint8Array(fs.readFileSync(face(`${folder}/${file}`)))], { type: 'image/jpeg' }), file);
  return f;
}

/** Appends events to LOOKOUT_EVENTS as reid does (same subjects, same dedup ids). */
async function publish(nc: NatsConnection, metrics: StreamMetricsEvent[], alerts: AlertEvent[], recognition?: RecognitionEvent): Promise<void> {
  const js = jetstream(nc);
  for (const m of metrics) await js.publish(subjects.metrics(m.room, m.stream), encodeJson(streamMetricsEvent, m), { msgID: eventMsgId.metrics(m) });
  for (const a of alerts) await js.publish(subjects.alerts(a.room, a.stream), encodeJson(alertEvent, a), { msgID: eventMsgId.alert(a) });
  if (recognition) await js.publish(subjects.recognitions(recognition.room, recognition.stream), encodeJson(recognitionEvent, recognition), { msgID: eventMsgId.recognition(recognition) });
}

/** 40 s of metrics, closed looking_away and no_face episodes, an open multiple_faces one, one recognition. */
function syntheticEvents(s: SessionInfo, subjectId: string) {
  const t0 = Math.floor(s.startedMs / 1000);
  const ref = { room: s.room, stream: s.stream, sessionId: s.sessionId };
  // Looking away from 8 s to 14 s, nobody from 20 s to 23 s; the expression changes a few times.
  const metrics: StreamMetricsEvent[] = Array.from({ length: 40 }, (_, i) => {
    const [away, gone] = [i >= 8 && i < 14, i >= 20 && i < 23];
    const scores = { eyeContact: gone ? null : away ? 20 : 85 - (i % 7), engagement: gone ? null : away ? 35 + i : 70 + 15 * Math.sin(i / 4), positivity: 50 + (i % 10) * 3, postureStability: 90, confidence: 95 };
    const expressions = gone ? {} : { [i < 10 ? 'neutral' : i < 18 ? 'happy' : i < 30 ? 'neutral' : 'surprise']: 5 };
    return { ...ref, second: t0 + i, frames: 5, facesMean: gone ? 0 : 1, principalPresent: gone ? 0 : 1, scores, expressions, latencyMs: 80 };
  });
  const episode = (kind: AlertEvent['kind'], severity: AlertEvent['severity'], from: number, to: number | null, message: string): AlertEvent => ({
    ...ref,
    id: `${s.room}.${s.stream}.${kind}.${from * 5}`,
    kind,
    severity,
    state: to === null ? 'open' : 'closed',
    startMs: (t0 + from) * 1000,
    startSeq: from * 5,
    ...(to === null ? {} : { endMs: (t0 + to) * 1000, endSeq: to * 5 }),
    message,
  });
  const open = episode('multiple_faces', 'warning', 32, null, '2 faces in view');
  const alerts = [
    episode('looking_away', 'info', 8, null, 'looking away (yaw 42°)'),
    episode('looking_away', 'info', 8, 14, 'looking away (yaw 42°)'),
    episode('no_face', 'warning', 20, 23, 'no face in view'),
    open,
  ];
  const recognition: RecognitionEvent = { ...ref, id: `rec-${s.sessionId}`, seq: 3, captureMs: (t0 + 1) * 1000, trackId: 't1', decision: 'PASS', subjectId, name: 'Sundar Pichai', similarity: 0.82 };
  return { metrics, alerts, open, recognition };
}

/** Waits until the locator's text matches (Playwright's expect is not used with jest). */
async function expectValue(locator: ReturnType<Page['locator']>, re: RegExp, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  let last = '';
  while (Date.now() < deadline) {
    last = await locator.inputValue({ timeout: 1000 }).catch(() => '');
    if (re.test(last)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`expected ${re} as the value, got ${JSON.stringify(last)}`);
}

async function expectText(locator: ReturnType<Page['locator']>, re: RegExp, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout;
  let last = '';
  while (Date.now() < deadline) {
    last = (await locator.innerText({ timeout: 1000 }).catch(() => '')).replace(/\s+/g, ' ');
    if (re.test(last)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`expected ${re} in ${JSON.stringify(last)}`);
}
