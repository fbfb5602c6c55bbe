import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { alertEvent, analysisMessage, decodeJson, kvBuckets, streamKey, subjects, type AlertEvent, type AnalysisMessage } from '@lookout/contracts';
import { enrollVideoPeople, extractVideoFrames, FramePublisher, startNatsServer, startService, stopAllProcesses, VIDEO_FPS, type NatsServer, type RunningService } from '@lookout/testkit';

/**
 * No spoof alert on real people (issue 16): the sequential two-person video (two real
 * people, one after the other) runs frame by frame through the real detector and reid in
 * a session, as the SFU tap sends it and as the web app's fallback uploader re-encodes it
 * (canvas → JPEG, quality 0.8 at 640 px and 0.7 at 320 px). Its second person scores
 * "not live" on most frames (the fixture is a photo pasted on a flat background: the crop
 * shows the picture's edges; docs/detector.md, liveness), for 6 s: not the sustained
 * evidence spoof_suspected asks for.
 */
const VARIANTS: Array<[string, ((jpeg: Buffer) => Promise<Buffer>) | null]> = [
  ['tap', null],
  ['fallback-640-q80', (j) => sharp(j).resize({ width: 640 }).jpeg({ quality: 80 }).toBuffer()],
  ['fallback-320-q70', (j) => sharp(j).resize({ width: 320 }).jpeg({ quality: 70 }).toBuffer()],
];

describe('spoof false alarms (real nats-server, detector, reid; the two-person video in a session)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let detector: RunningService;
  let reid: RunningService;
  let frameDir: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'spoof-false-alarms-test' });
    frameDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-spoof-'));
    extractVideoFrames(frameDir);
    // Capture times are the video's, not the wall clock's: nothing may be dropped as stale.
    [detector, reid] = await Promise.all([
      startService('detector', nats.url, { MAX_FRAME_AGE_MS: '3600000' }),
      startService('reid', nats.url, { INSTANCE_ID: 'reid-spoof', MAX_FRAME_AGE_MS: '3600000' }),
    ]);
    await enrollVideoPeople(nc);
  }, 180_000);

  afterAll(async () => {
    await nc?.close();
    await Promise.all([detector?.stop(), reid?.stop()]);
    await stopAllProcesses();
    await nats?.stop();
    if (frameDir) fs.rmSync(frameDir, { recursive: true, force: true });
  });

  it.each(VARIANTS)('%s: no spoof_suspected episode', async (variant, encode) => {
    const room = 'spoof';
    const stream = `cam-${variant}`;
    const sessions = await new Kvm(nc).open(kvBuckets.streamSessions);
    await sessions.put(streamKey(room, stream), JSON.stringify({ sessionId: `sess-${variant}`, startedMs: Date.now() }));

    const analyses: AnalysisMessage[] = [];
    const alerts: AlertEvent[] = [];
    const subs = [
      nc.subscribe(subjects.analysis(room, stream), { callback: (_e, m) => void analyses.push(decodeJson(analysisMessage, m.data)) }),
      nc.subscribe(subjects.alerts(room, stream), { callback: (_e, m) => void alerts.push(decodeJson(alertEvent, m.data)) }),
    ];
    await nc.flush();
    const publisher = new FramePublisher(nc);
    const files = fs.readdirSync(frameDir).sort();
    const t0 = Date.now() - 60_000;
    for (const [i, f] of files.entries()) {
      const raw = fs.readFileSync(path.join(frameDir, f));
      publisher.publish(room, stream, encode ? await encode(raw) : raw, { seq: i, captureMs: t0 + Math.round((i * 1000) / VIDEO_FPS) });
      // One frame at a time: the detector keeps one waiting frame per stream, and every frame must count.
      for (let w = 0; w < 300 && !analyses.some((a) => a.seq === i); w++) await new Promise((r) => setTimeout(r, 20));
    }
    await nc.flush();
    await new Promise((r) => setTimeout(r, 300));
    subs.forEach((s) => s.unsubscribe());

    expect(analyses.length).toBeGreaterThanOrEqual(files.length - 2);
    // Fresh liveness results (ageMs 0) as the rule sees them; printed for docs/detector.md.
    const fresh = analyses.flatMap((a) => a.faces.map((f) => f.liveness).filter((l) => l !== undefined && l.ageMs === 0));
    const low = fresh.filter((l) => !l!.live).length;
    console.log(`${variant}: ${fresh.length} fresh liveness results, ${low} "not live" (${((100 * low) / Math.max(1, fresh.length)).toFixed(0)}%); alerts: ${alerts.map((a) => `${a.kind}/${a.state}`).join(', ') || 'none'}`);
    expect(fresh.length).toBeGreaterThanOrEqual(10);
    expect(alerts.filter((a) => a.kind === 'spoof_suspected')).toEqual([]);
  }, 240_000);
});
