// nats-server SIGKILLed mid-traffic and started again on the same port and store: every
// service must ride it out by itself (not ready while NATS is gone, no crash, ready and
// analysing again after), and every enrollment acknowledged before the kill is still there.
import fs from 'node:fs';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { kvBuckets, WS_PATH, type ServiceName } from '@lookout/contracts';
import {
  FIXTURES,
  FramePublisher,
  galleryCall,
  longestGap,
  metricValue,
  patientConnect,
  recordAnalysis,
  roomToken,
  sleep,
  startNatsNode,
  startService,
  stopAllProcesses,
  TEST_GATEWAY_ENV,
  TestWsClient,
  until,
  watchReadiness,
  type NatsClusterNode,
  type RunningService,
} from '@lookout/testkit';

const FACES = path.join(FIXTURES, 'faces/identities');
const frame = fs.readFileSync(path.join(FACES, 'barack_obama/fr_obama1.jpg'));
const ROOM = 'outage';
const STREAM = 'cam-1';
const FPS = 4;

describe('nats-server killed and restarted (real nats-server, detector, reid, gateway, sfu)', () => {
  let nats: NatsClusterNode & { remove(): Promise<void> };
  let nc: NatsConnection;
  let client: TestWsClient;
  const services = new Map<ServiceName, RunningService>();

  beforeAll(async () => {
    nats = await startNatsNode();
    nc = await patientConnect(nats.url, 'nats-restart-test');
    const patient = { MAX_FRAME_AGE_MS: '5000' };
    const started = await Promise.all(
      (['detector', 'reid', 'gateway', 'sfu'] as const).map(
        async (name) => [name, await startService(name, nats.url, { MEDIASOUP_WORKERS: '1', ...(name === 'gateway' ? TEST_GATEWAY_ENV : {}), ...(name === 'detector' || name === 'reid' ? patient : {}) })] as const,
      ),
    );
    for (const [name, svc] of started) services.set(name, svc);
    client = await TestWsClient.connect(`ws://127.0.0.1:${services.get('gateway')!.httpPort}${WS_PATH}`);
    await client.join(ROOM, roomToken(ROOM, 'viewer'));
    await client.subscribe(ROOM);
  }, 180_000);

  afterAll(async () => {
    await client?.close();
    await nc?.close();
    await Promise.all([...services.values()].map((s) => s.stop()));
    await stopAllProcesses();
    await nats?.remove();
  });

  it('every service is not ready (and alive) while NATS is down, ready and analysing again after; 20 acknowledged enrollments survive', async () => {
    // 20 enrollments, each acknowledged (reid replies after the KV put is acknowledged).
    const people = fs.readdirSync(FACES).sort().slice(0, 20);
    const enrolled: string[] = [];
    for (const person of people) {
      const subjectId = `r-${person.replace(/_/g, '-')}`;
      for (const file of fs.readdirSync(path.join(FACES, person)).sort()) {
        const r = await galleryCall(nc, 'enroll', { subjectId, name: person, images: [fs.readFileSync(path.join(FACES, person, file)).toString('base64')] });
        if (r.ok) {
          enrolled.push(subjectId);
          break;
        }
      }
    }
    expect(enrolled).toHaveLength(20);

    // Frames at a steady rate, from before the kill to after the recovery.
    const analysis = recordAnalysis(client);
    const frames = new FramePublisher(nc);
    const published: Array<{ seq: number; at: number }> = [];
    let seq = 0;
    const pump = setInterval(() => {
      if (nc.isClosed()) return;
      frames.publish(ROOM, STREAM, frame, { seq });
      published.push({ seq: seq++, at: Date.now() });
    }, 1000 / FPS);
    try {
      await until('analysis before the kill', () => analysis.length >= 5, 90_000);
      const watch = watchReadiness(services);
      await sleep(2000);
      const killedAt = Date.now();
      await nats.kill();

      // While NATS is gone: each service says not ready, none exits.
      await until('every service not ready', () => watch.wentDown.size === services.size, 30_000);
      await sleep(3000);
      for (const [name, svc] of services) expect([name, svc.child.exitCode, svc.child.signalCode]).toEqual([name, null, null]);
      const downFor = Date.now() - killedAt;

      const restartAt = Date.now();
      await nats.start();
      const serverReadyAt = Date.now();
      await until('every service ready again', () => watch.allBack(), 120_000, 100);
      await watch.stop();
      const firstAfter = await until('analysis of a frame published after the restart', () => analysis.some((a) => a.at > serverReadyAt && published.some((p) => p.seq === a.seq && p.at > serverReadyAt)), 120_000, 50);
      await sleep(5000);
      clearInterval(pump);
      const end = Date.now();

      const answered = new Set(analysis.map((a) => a.seq));
      const inOutage = published.filter((p) => p.at >= killedAt && p.at < firstAfter);
      const before = published.filter((p) => p.at < killedAt - 3000 && p.at > killedAt - 10_000);
      const afterWindow = published.filter((p) => p.at > firstAfter && p.at < end - 3000);
      const lostBefore = before.filter((p) => !answered.has(p.seq)).length;
      const lostAfter = afterWindow.filter((p) => !answered.has(p.seq)).length;
      const ready = Object.fromEntries([...services.keys()].map((n) => [n, ((watch.cameBack.get(n)! - serverReadyAt) / 1000).toFixed(1)]));
      console.log(
        `nats-server kill/restart: down ${(downFor / 1000).toFixed(1)} s (restart took ${((serverReadyAt - restartAt) / 1000).toFixed(1)} s); ` +
          `services ready again after the server (s): ${JSON.stringify(ready)}; first analysis ${((firstAfter - serverReadyAt) / 1000).toFixed(1)} s after the server was ready; ` +
          `longest analysis gap ${(longestGap(analysis.map((a) => a.at), killedAt - 5000, end) / 1000).toFixed(1)} s; frames published while down/recovering ${inOutage.length}, ` +
          `unanswered ${inOutage.filter((p) => !answered.has(p.seq)).length}; unanswered in steady state: before ${lostBefore}/${before.length}, after ${lostAfter}/${afterWindow.length}`,
      );
      // Analysis flows at the normal rate again.
      expect(afterWindow.length).toBeGreaterThan(0);
      expect(lostAfter).toBeLessThanOrEqual(Math.max(1, Math.ceil(afterWindow.length * 0.2)));
    } finally {
      clearInterval(pump);
    }

    // Every acknowledged enrollment is still in the gallery, by RPC and in KV.
    const listed = await galleryCall(nc, 'list', {});
    if (!listed.ok) throw new Error(JSON.stringify(listed.error));
    expect(listed.subjects.map((s) => s.subjectId).sort()).toEqual([...enrolled].sort());
    const kv = await new Kvm(nc).open(kvBuckets.gallery);
    for (const id of enrolled) expect((await kv.get(id))?.operation).toBe('PUT');

    // reid's gallery watch resumed: an enrollment made now reaches its index.
    const more = fs.readdirSync(FACES).sort()[20]!;
    const file = fs.readdirSync(path.join(FACES, more)).sort()[0]!;
    const late = await galleryCall(nc, 'enroll', { subjectId: 'r-after', name: more, images: [fs.readFileSync(path.join(FACES, more, file)).toString('base64')] });
    if (!late.ok) throw new Error(JSON.stringify(late.error));
    await until('reid indexes the enrollment made after the restart', async () => metricValue((await services.get('reid')!.get('/metrics')).body, 'lookout_reid_gallery_subjects') === 21, 30_000, 250);
    expect(client.protocolErrors).toEqual([]);
  }, 400_000);
});
