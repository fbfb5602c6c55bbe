import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { apiCall, artifact, enroll, ensureWebBuilt, fakeCameraFile, launchChromium, metricValue, newContext, sfuOk, startNatsServer, startService, stopAllProcesses, TEST_GATEWAY_ENV, timeUntil, watchErrors, type NatsServer, type RunningService } from '@lookout/testkit';

/**
 * The web app in real Chromium against every real service: the Publish page publishes a
 * fake camera (two people one after the other: Barack Obama 0–6 s, then Angelina Jolie,
 * who is not enrolled) and the Room dashboard, in another browser context, watches it.
 * Then WebRTC cannot connect and the Publish page falls back to JPEG upload.
 *
 * How WebRTC is made to fail: a second SFU announces 192.0.2.1 (TEST-NET-1, documentation
 * only, never routed) in its ICE candidates — the classic deployment without the right
 * RTC_ANNOUNCED_IP — and owns the fallback test's room. Chromium's
 * `--force-webrtc-ip-handling-policy=disable_non_proxied_udp` was tried first and does not
 * block anything here: the SFU also offers ICE over TCP, and the publisher connected.
 */
const UNREACHABLE_SFU = 'sfu-unreachable';
describe('web app: Publish page and Room dashboard (real Chromium, SFU, detector, reid, gateway)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let gateway: RunningService;
  let unreachableSfu: RunningService;
  let base: string;
  let browser: Browser;
  let y4m: string;
  const errors: string[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-web-'));

  beforeAll(async () => {
    ensureWebBuilt();
    // The clip's 12 s (Chromium loops the file): the switch to the second person is at 6 s.
    y4m = fakeCameraFile('video/two-people-sequential-640x480-15fps.webm', 12, tmp);
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'web-live-test' });
    [, unreachableSfu, , , gateway] = await Promise.all([
      startService('sfu', nats.url, { MEDIASOUP_WORKERS: '1', RTC_LISTEN_IP: '127.0.0.1' }),
      startService('sfu', nats.url, { INSTANCE_ID: UNREACHABLE_SFU, MEDIASOUP_WORKERS: '1', RTC_LISTEN_IP: '127.0.0.1', RTC_ANNOUNCED_IP: '192.0.2.1', RTC_MIN_PORT: '41000', RTC_MAX_PORT: '41999' }),
      startService('detector', nats.url),
      startService('reid', nats.url),
      startService('gateway', nats.url, TEST_GATEWAY_ENV),
    ]);
    // The first test's room on the reachable SFU; the fallback test's on the other one.
    await sfuOk(nc, 'sfu-test', 'createRoom', { room: 'web' });
    await sfuOk(nc, UNREACHABLE_SFU, 'createRoom', { room: 'web-blocked' });
    await sfuOk(nc, 'sfu-test', 'createRoom', { room: 'web-again' });
    base = `http://127.0.0.1:${gateway.httpPort}`;
    browser = await launchChromium(y4m);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await nc?.close();
    await stopAllProcesses();
    await nats?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const token = async (room: string, role: 'publisher' | 'viewer') => (await apiCall<{ token: string }>(base, 'POST', '/tokens', { json: { room, role } })).body.token;
  const count = async (page: Page, testId: string) => Number((await page.getByTestId(testId).textContent()) ?? '0');

  it('shows the enrolled name over the face, the dashboard tile with its box, then an identity_changed alert', async () => {
    const admin = await newContext(browser, { admin: true });
    await enroll(admin, base, 'Barack Obama', 'faces/identities/barack_obama/fr_obama.jpg');

    // The dashboard first (admin key: it mints its own viewer token), so it sees every alert.
    const dashboard = await admin.newPage();
    watchErrors(dashboard, errors);
    await dashboard.goto(`${base}/#/dashboard?room=web`);
    await dashboard.getByTestId('socket-status').getByText('Connected').waitFor({ timeout: 10_000 });

    // The publisher in its own context, with a publisher token in the link.
    const publisherContext = await newContext(browser);
    const publish = await publisherContext.newPage();
    watchErrors(publish, errors);
    await publish.goto(`${base}/#/publish?room=web&stream=laptop&token=${await token('web', 'publisher')}`);
    await publish.getByTestId('socket-status').getByText('Connected').waitFor({ timeout: 10_000 });
    const started = Date.now();
    await publish.getByRole('button', { name: 'Start publishing' }).click();
    await publish.locator('[data-testid="media-path"][data-path="webrtc"]').waitFor({ timeout: 10_000 });

    const firstAnalysisMs = await timeUntil(publish, 'the first analysis', async () => (await count(publish, 'frames-analysed')) > 0, 15_000);
    // The publisher is never told whom the gallery matched (docs/gateway.md "Roles"): its page labels a "Face".
    const faceMs = await timeUntil(publish, 'a label over the face', () => publish.locator('.tile-face', { hasText: 'Face' }).first().isVisible(), 5_000);
    const label = (await publish.locator('.tile-face', { hasText: 'Face' }).first().boundingBox())!;
    const picture = (await publish.locator('.tile-media').boundingBox())!;
    // The label sits on the face: inside the picture, not at a corner of the page.
    expect(label.x).toBeGreaterThan(picture.x + picture.width * 0.15);
    expect(label.y + label.height).toBeLessThan(picture.y + picture.height * 0.8);
    await publish.getByTestId('my-identity').getByText('Face in view').waitFor({ timeout: 1_000 });
    // The page's own metrics: the per-second chart has its first point (still Barack Obama on screen).
    await publish.locator('.publish-metrics figcaption', { hasText: /engagement \d+/ }).waitFor({ timeout: 4_000 });
    await publish.screenshot({ path: artifact('web-publish.png') });

    const tile = dashboard.locator('article[data-stream="laptop"]');
    await tile.waitFor({ timeout: 10_000 });
    await tile.locator('.tile-face').first().waitFor({ timeout: 10_000 });
    // The people watching the room see who it is.
    const nameMs = await timeUntil(dashboard, 'Barack Obama over the face on the dashboard', () => tile.locator('.tile-face', { hasText: 'Barack Obama' }).first().isVisible(), 10_000);
    expect(await drawnPixels(dashboard, 'article[data-stream="laptop"] canvas')).toBeGreaterThan(100);
    // The SFU's video plays in the tile (its first frame may take a moment after the tile appears).
    await timeUntil(dashboard, 'the tile\'s video', () => tile.locator('video').evaluate((v: HTMLVideoElement) => v.videoWidth > 0), 5_000);
    // Once the video is delayed by the pipeline latency the overlay follows its frames.
    const syncMs = await timeUntil(dashboard, 'the overlay in sync with the video', () => tile.locator('[data-sync="frame"]').isVisible(), 10_000);
    const syncText = await tile.locator('.tile-people').textContent();
    // One stream, one truth: the same result shows the same faces on both pages (names on the dashboard only).
    const agreed = await sameTruth(publish, tile, 'Barack Obama', 25_000);

    const alert = dashboard.locator('li[data-kind="identity_changed"]');
    await alert.waitFor({ timeout: 20_000 });
    const alertMs = Date.now() - started;
    const analysed = await count(publish, 'frames-analysed');
    expect(await alert.textContent()).toMatch(/Barack Obama → an unknown person/);
    expect(await tile.locator('.tile-latency').textContent()).toMatch(/latency p50 \d+ ms/);
    await dashboard.screenshot({ path: artifact('web-dashboard.png'), fullPage: true });
    // A small laptop screen: one column, nothing cut off.
    for (const page of [dashboard, publish]) await page.setViewportSize({ width: 1024, height: 700 });
    await dashboard.screenshot({ path: artifact('web-dashboard-1024.png'), fullPage: true });
    await publish.screenshot({ path: artifact('web-publish-1024.png'), fullPage: true });

    console.log(
      `web: enrolled through the Gallery form; first analysis ${firstAnalysisMs} ms after WebRTC connected, face label ${faceMs} ms later, name on the dashboard ${nameMs} ms after that; ` +
        `dashboard overlay in sync after ${syncMs} ms more (${syncText?.trim()}); ${agreed}; identity_changed alert ${alertMs} ms after publish started; ${analysed} frames analysed by then`,
    );
    expect(await publish.locator('body').textContent()).not.toContain('Barack Obama');
    expect(errors).toEqual([]);
    await publisherContext.close();
    await admin.close();
  }, 120_000);

  it('falls back to JPEG upload over the WebSocket when WebRTC cannot connect: analysis still arrives, both pages tell the same, the dashboard shows the pictures', async () => {
    const admin = await newContext(browser, { admin: true });
    // Run alone (-t), this test enrolls the person to recognise itself.
    const subjects = await apiCall<{ subjects: Array<{ name: string }> }>(base, 'GET', '/gallery/subjects?limit=1000');
    if (!subjects.body.subjects.some((x) => x.name === 'Barack Obama')) await enroll(admin, base, 'Barack Obama', 'faces/identities/barack_obama/fr_obama.jpg');
    const context = await newContext(browser);
    const publish = await context.newPage();
    watchErrors(publish, errors);
    await publish.goto(`${base}/#/publish?room=web-blocked&stream=blocked&token=${await token('web-blocked', 'publisher')}`);
    await publish.getByTestId('socket-status').getByText('Connected').waitFor({ timeout: 10_000 });
    const started = Date.now();
    await publish.getByRole('button', { name: 'Start publishing' }).click();
    // Failures say what the page said: its connection, media path and upload counters.
    const explain = async (err: Error) => {
      throw new Error(`${err.message}\nthe page says: ${await publish.locator('section[aria-labelledby="publish-status-title"]').textContent()}`);
    };
    await publish.locator('[data-testid="media-path"][data-path="fallback"]').waitFor({ timeout: 15_000 }).catch(explain);
    const fellBackMs = Date.now() - started;
    expect(await publish.getByTestId('media-detail').textContent()).toMatch(/Fallback upload: WebRTC did not connect within \d+ s/);
    await timeUntil(publish, 'analysis of uploaded frames', async () => (await count(publish, 'frames-analysed')) > 0, 10_000).catch(explain);
    await publish.locator('.tile-face').first().waitFor({ timeout: 5_000 });

    // The dashboard (admin key) shows the upload-only stream: the uploaded pictures
    // (the gateway's preview feed), with the overlay on them.
    const dashboard = await admin.newPage();
    watchErrors(dashboard, errors);
    await dashboard.goto(`${base}/#/dashboard?room=web-blocked`);
    const tile = dashboard.locator('article[data-stream="blocked"]');
    await tile.getByText('fallback upload', { exact: false }).first().waitFor({ timeout: 10_000 });
    const picture = tile.getByTestId('tile-preview');
    const drawn = async () => Number(await picture.getAttribute('data-frames'));
    await timeUntil(dashboard, 'the first uploaded picture on the dashboard', async () => (await drawn()) > 0, 10_000);
    const firstDrawn = await drawn();
    await timeUntil(dashboard, 'the next uploaded pictures', async () => (await drawn()) >= firstDrawn + 2, 5_000);
    expect(await litShare(picture)).toBeGreaterThan(0.5);

    // One stream, one truth: the Publish page's picture, caption and metrics describe the
    // same result, and both pages show the same faces for the same result — named Barack
    // Obama on the dashboard, a "Face" on the Publish page.
    const agreed = await sameTruth(publish, tile, 'Barack Obama', 25_000);
    await tile.locator('.tile-face', { hasText: 'Barack Obama' }).first().waitFor({ timeout: 10_000 });
    expect(await publish.locator('body').textContent()).not.toContain('Barack Obama');
    await publish.screenshot({ path: artifact('web-publish-fallback.png') });
    await dashboard.screenshot({ path: artifact('web-dashboard-fallback.png') });

    // WebRTC really failed: the SFU never tapped a frame of this room.
    const sfuMetrics = (await unreachableSfu.get('/metrics')).body;
    expect(metricValue(sfuMetrics, 'lookout_sfu_frames_published_total', { room: 'web-blocked' })).toBe(0);
    console.log(`web: WebRTC unreachable → fallback after ${fellBackMs} ms; ${await publish.getByTestId('upload-count').textContent()}; ${await drawn()} pictures on the dashboard; ${agreed}`);
    expect(errors).toEqual([]);
    await context.close();
    await admin.close();
  }, 90_000);

  it('reconnects by itself when the gateway restarts: visible status, then WebRTC published again', async () => {
    const context = await newContext(browser);
    const publish = await context.newPage();
    watchErrors(publish, errors);
    await publish.goto(`${base}/#/publish?room=web-again&stream=again&token=${await token('web-again', 'publisher')}`);
    await publish.getByTestId('socket-status').getByText('Connected').waitFor({ timeout: 10_000 });
    await publish.getByRole('button', { name: 'Start publishing' }).click();
    await publish.locator('[data-testid="media-path"][data-path="webrtc"]').waitFor({ timeout: 10_000 });
    await timeUntil(publish, 'the first analysis', async () => (await count(publish, 'frames-analysed')) > 0, 10_000);

    const stopped = Date.now();
    await gateway.stop();
    await publish.getByTestId('socket-status').getByText(/Reconnecting/).waitFor({ timeout: 5_000 });
    // The same port: the page keeps its URL.
    gateway = await startService('gateway', nats.url, { ...TEST_GATEWAY_ENV, HTTP_PORT: new URL(base).port });
    await publish.getByTestId('socket-status').getByText('Connected').waitFor({ timeout: 15_000 });
    await publish.locator('[data-testid="media-path"][data-path="webrtc"]').waitFor({ timeout: 10_000 });
    const before = await count(publish, 'frames-analysed');
    await timeUntil(publish, 'analysis after the reconnect', async () => (await count(publish, 'frames-analysed')) > before, 10_000);
    console.log(`web: gateway restarted; the page was publishing over WebRTC again ${Date.now() - stopped} ms after the gateway stopped`);
    expect(errors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
    await context.close();
  }, 60_000);
});

/** How many pixels of a canvas are drawn (not transparent): the overlay's boxes and arrows. */
function drawnPixels(page: Page, selector: string): Promise<number> {
  return page.locator(selector).first().evaluate((c: HTMLCanvasElement) => {
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
    return n;
  });
}

/** What a tile says about the result it shows: the caption's and the labels' result (seq) and names. */
interface Told {
  seq: string;
  labelsSeq: string;
  labels: string[];
  summary: string;
  /** The Publish page's metrics panel, when there is one. */
  metrics?: { seq: string; person: string; faces: string };
}

function told(scope: Page | Locator): Promise<Told> {
  return scope.locator('.tile-video').first().evaluate((el) => {
    const people = el.querySelector<HTMLElement>('.tile-people')!;
    const labels = el.querySelector<HTMLElement>('.tile-labels')!;
    const person = document.querySelector<HTMLElement>('[data-testid="my-identity"]');
    return {
      seq: people.dataset.seq ?? '',
      labelsSeq: labels.dataset.seq ?? '',
      labels: [...labels.querySelectorAll('.tile-face')].map((l) => l.textContent ?? ''),
      summary: (people.firstChild?.textContent ?? '').trim(),
      ...(person ? { metrics: { seq: person.dataset.seq ?? '', person: person.textContent ?? '', faces: document.querySelector('[data-testid="my-faces"]')?.textContent ?? '' } } : {}),
    };
  });
}

/**
 * Samples the Publish page and a dashboard tile until the dashboard named `name` in a
 * result the Publish page showed too (same seq). Every sample where a page's parts show one
 * result must agree with itself (labels, caption, metrics), and both pages must show the
 * same faces for the same result: the dashboard with names, the Publish page (a publisher
 * is told no gallery identities) labelling each a "Face".
 */
async function sameTruth(publish: Page, tile: Locator, name: string, timeoutMs: number): Promise<string> {
  const byPage = [new Map<string, string[]>(), new Map<string, string[]>()];
  let checked = 0;
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const [i, t] of (await Promise.all([told(publish), told(tile)])).entries()) {
      if (!t.seq || t.seq !== t.labelsSeq) continue; // labels move at once, the caption a render later
      checked++;
      const names = t.labels.map((l) => l.replace(/ \d\.\d\d( · .*)?$| · .*$/, ''));
      expect(t.summary).toBe(names.length ? `In view: ${names.join(', ')}` : 'Nobody in view');
      if (t.metrics?.seq === t.seq) {
        expect(t.metrics.faces).toBe(String(names.length));
        expect(names.length ? names.some((n) => t.metrics!.person.startsWith(n)) : t.metrics.person === 'Nobody in view').toBe(true);
      }
      if (i === 0) expect(names.every((n) => n === 'Face')).toBe(true);
      const other = byPage[1 - i]!.get(t.seq);
      if (other) expect(t.labels.length).toBe(other.length);
      byPage[i]!.set(t.seq, t.labels);
      const dashboard = i === 1 ? t.labels : other;
      if (other && dashboard!.some((l) => l.startsWith(name))) return `the dashboard named ${name} for result ${t.seq}, the Publish page showed its faces unnamed (${checked} samples agreed)`;
    }
    await publish.waitForTimeout(80);
  }
  throw new Error(`the pages never showed ${name} for the same result: publish ${JSON.stringify([...byPage[0]!].slice(-5))}, dashboard ${JSON.stringify([...byPage[1]!].slice(-5))}`);
}

/** The share of a canvas's pixels that are not black or transparent: a picture is drawn. */
function litShare(canvas: Locator): Promise<number> {
  return canvas.evaluate((c: HTMLCanvasElement) => {
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0 && data[i]! + data[i + 1]! + data[i + 2]! > 48) lit++;
    return lit / (data.length / 4 || 1);
  });
}
