import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeFrameHeaders, subjects } from '@lookout/contracts';
import { childProcesses, fakeCameraFile, launchChromium, servePublisherPage, sfuCall, sfuOk, startNatsServer, startService, stopAllProcesses, type NatsServer, type RunningService } from '@lookout/testkit';

const INSTANCE = 'sfu-webrtc';

describe('SFU: a browser publishes its camera over WebRTC (real Chromium, mediasoup, ffmpeg, NATS)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let sfu: RunningService;
  let browser: Browser;
  let publisherPage: { url: string; close(): Promise<void> };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-webrtc-'));

  beforeAll(async () => {
    // The first 4 s are enough (Chromium loops the file); the whole clip would be ~80 MB.
    const y4m = fakeCameraFile('video/two-people-sequential-640x480-15fps.webm', 4, tmp);
    publisherPage = await servePublisherPage();

    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'webrtc-test' });
    sfu = await startService('sfu', nats.url, { INSTANCE_ID: INSTANCE, MEDIASOUP_WORKERS: '1', RTC_LISTEN_IP: '127.0.0.1' });
    browser = await launchChromium(y4m);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await nc?.close();
    await stopAllProcesses();
    await nats?.stop();
    await publisherPage?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** The test page, with window.signal relaying to the SFU over NATS (the gateway's job later). */
  async function openPage() {
    const page = await browser.newPage();
    await page.exposeFunction('signal', async (op: string, body: unknown) => {
      const reply = await sfuCall(nc, INSTANCE, op, body);
      if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
      return reply.data;
    });
    await page.goto(publisherPage.url);
    return page;
  }

  it.each(['VP8', 'H264'] as const)('publishes %s through the signaling API: frames arrive on NATS at the tap\'s size and a viewer page plays it', async (codec) => {
    await sfuOk(nc, INSTANCE, 'createRoom', { room: 'webcams' });
    const frames: Array<{ ms: number; width: number; height: number }> = [];
    const sub = nc.subscribe(subjects.frames('webcams', 'laptop'), {
      callback: (_e, m) => {
        const meta = decodeFrameHeaders((n) => m.headers?.get(n) || undefined);
        frames.push({ ms: Date.now(), width: meta.width, height: meta.height });
      },
    });
    const page = await openPage();
    const started = Date.now();
    const result = await page.evaluate((c) => window.publish({ room: 'webcams', stream: 'laptop', peer: 'alice', codec: c }), codec);
    expect(result.connectionState).toBe('connected');
    expect(result.codec).toBe(`video/${codec}`);

    // Full-size frames: Chrome may start small while its bandwidth estimate ramps up.
    const fullSize = await new Promise<{ ms: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no 640×480 frame; got ${JSON.stringify(frames.slice(-3))}`)), 30_000);
      const check = setInterval(() => {
        const f = frames.find((x) => x.width === 640 && x.height === 480);
        if (f) {
          clearInterval(check);
          clearTimeout(timer);
          resolve(f);
        }
      }, 50);
    });
    // A dashboard in another page watches the same stream through the SFU.
    const viewer = await openPage();
    const watched = await viewer.evaluate((id) => window.watch({ room: 'webcams', peer: 'dashboard', producerId: id }), result.producerId);
    expect(watched.width).toBeGreaterThan(0);
    expect(watched.framesDecoded).toBeGreaterThan(0);
    await viewer.close();

    console.log(`webrtc ${codec}: first frame ${frames[0]!.ms - started} ms after publish() began (${frames[0]!.width}×${frames[0]!.height}), first 640×480 frame after ${fullSize.ms - started} ms; handler ${result.handler}`);
    expect(frames.length).toBeGreaterThan(0);

    await page.close();
    sub.unsubscribe();
    await sfuOk(nc, INSTANCE, 'closeRoom', { room: 'webcams' });
    expect(await childProcesses(sfu.child.pid!, 'ffmpeg')).toEqual([]);
  });
});
