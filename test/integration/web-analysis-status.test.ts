import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import type { RoomInfo } from '@lookout/contracts';
import { apiCall, artifact, ensureWebBuilt, fakeCameraFile, FaultyFfmpeg, launchChromium, newContext, startNatsServer, startService, stopAllProcesses, TEST_GATEWAY_ENV, watchErrors, type NatsServer } from '@lookout/testkit';

/**
 * Media and analysis are different things, and the pages say which is wrong: a browser
 * publishes over WebRTC (the video plays) while the SFU's frame tap cannot run (its ffmpeg
 * fails on every start), then the tap is allowed to run again.
 */
describe('web app: a stream whose video plays but cannot be analysed (real Chromium, SFU, gateway)', () => {
  let nats: NatsServer;
  let base: string;
  let browser: Browser;
  const ffmpeg = new FaultyFfmpeg();
  const errors: string[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-web-analysis-'));

  beforeAll(async () => {
    ensureWebBuilt();
    const y4m = fakeCameraFile('video/two-people-sequential-640x480-15fps.webm', 4, tmp);
    ffmpeg.failTaps('simulated decoder failure');
    nats = await startNatsServer();
    const [, gateway] = await Promise.all([
      startService('sfu', nats.url, { MEDIASOUP_WORKERS: '1', RTC_LISTEN_IP: '127.0.0.1', FFMPEG_PATH: ffmpeg.path }),
      startService('gateway', nats.url, TEST_GATEWAY_ENV),
    ]);
    base = `http://127.0.0.1:${gateway.httpPort}`;
    browser = await launchChromium(y4m);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await stopAllProcesses();
    await nats?.stop();
    ffmpeg.remove();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('says "analysis unavailable" with the reason while WebRTC is fine, never "failed" for the video, and recovers by itself', async () => {
    const admin = await newContext(browser, { admin: true });
    const dashboard = await admin.newPage();
    watchErrors(dashboard, errors);
    const publish = await admin.newPage();
    watchErrors(publish, errors);
    await publish.goto(`${base}/#/publish?room=tapless&stream=cam`);
    await publish.getByTestId('socket-status').getByText('Connected').waitFor({ timeout: 15_000 });
    await publish.getByRole('button', { name: 'Start publishing' }).click();
    await publish.locator('[data-testid="media-path"][data-path="webrtc"]').waitFor({ timeout: 15_000 });
    await dashboard.goto(`${base}/#/dashboard?room=tapless`);

    const tile = dashboard.locator('article[data-stream="cam"]');
    const unavailable = tile.locator('[data-testid="analysis-state"][data-state="unavailable"]');
    await unavailable.waitFor({ timeout: 30_000 });
    expect(await unavailable.textContent()).toBe('analysis unavailable: ffmpeg exited with code 1: test ffmpeg: simulated decoder failure');
    // The video itself is fine: it plays in the tile and its state says so.
    await tile.locator('video').evaluate((v: HTMLVideoElement) => new Promise<void>((r) => (v.videoWidth > 0 ? r() : v.addEventListener('loadeddata', () => r(), { once: true }))));
    expect(await tile.getByTestId('media-state').textContent()).toBe('WebRTC · live');
    expect(await tile.locator('header').textContent()).not.toMatch(/failed/i);
    await publish.locator('[data-testid="analysis-state"][data-state="unavailable"]', { hasText: 'simulated decoder failure' }).waitFor({ timeout: 10_000 });
    expect(await publish.getByTestId('media-path').textContent()).toBe('WebRTC');
    await dashboard.screenshot({ path: artifact('web-dashboard-analysis-unavailable.png') });
    await publish.screenshot({ path: artifact('web-publish-analysis-unavailable.png') });

    // The REST room info says the same.
    const info = await apiCall<RoomInfo>(base, 'GET', '/rooms/tapless');
    expect(info.body.streams).toEqual([
      expect.objectContaining({ stream: 'cam', source: 'webrtc', state: 'live', analysis: expect.objectContaining({ state: 'unavailable', code: 'exited', reason: expect.stringContaining('simulated decoder failure') }) }),
    ]);

    // The tap may run again: both pages heal without a reload.
    ffmpeg.failTaps(undefined);
    await tile.locator('[data-testid="analysis-state"][data-state="live"]', { hasText: 'analysed' }).waitFor({ timeout: 30_000 });
    await publish.locator('[data-testid="analysis-state"][data-state="live"]').waitFor({ timeout: 10_000 });
    await dashboard.screenshot({ path: artifact('web-dashboard-analysis-recovered.png') });
    expect(errors).toEqual([]);
    await admin.close();
  }, 120_000);
});
