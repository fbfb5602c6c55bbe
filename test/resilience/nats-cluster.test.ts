// A real 3-node JetStream cluster on this machine, the services on it with every store at
// R3 (JETSTREAM_REPLICAS=3) and all three URLs in NATS_URL. One node (the events stream's
// leader) is SIGKILLed mid-stream and brought back: analysis goes on, and no acknowledged
// KV update (a CAS counter written here), event (alerts with a Nats-Msg-Id, published
// here like reid does) or enrollment is lost.
import fs from 'node:fs';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { EVENT_STREAM, STORES, subjects, WS_PATH, type AlertEvent, type ServiceName } from '@lookout/contracts';
import { streamNameOf } from '@lookout/service-kit';
import {
  FIXTURES,
  FramePublisher,
  galleryCall,
  longestGap,
  patientConnect,
  recordAnalysis,
  roomToken,
  sleep,
  startNatsCluster,
  startService,
  stopAllProcesses,
  TEST_GATEWAY_ENV,
  TestWsClient,
  until,
  type NatsCluster,
  type RunningService,
} from '@lookout/testkit';

const FACES = path.join(FIXTURES, 'faces/identities');
const frame = fs.readFileSync(path.join(FACES, 'barack_obama/fr_obama1.jpg'));
const ROOM = 'cluster';
const STREAM = 'cam-1';
const FPS = 4;
const PROBE_ROOM = 'probe';

const probeAlert = (i: number): AlertEvent => ({
  id: `${PROBE_ROOM}.s1.no_face.${i}`,
  kind: 'no_face',
  severity: 'warning',
  state: 'open',
  room: PROBE_ROOM,
  stream: 's1',
  startMs: Date.now(),
  startSeq: i,
  message: 'resilience probe',
});

describe('3-node NATS cluster, one node killed mid-stream (real nats-servers, detector, reid, gateway)', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let client: TestWsClient;
  const services = new Map<ServiceName, RunningService>();

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    nc = await patientConnect(cluster.urls.split(','), 'nats-cluster-test');
    const env = { JETSTREAM_REPLICAS: '3', MAX_FRAME_AGE_MS: '5000' };
    // reid first: it owns the events stream and the gallery; the others then find them.
    services.set('reid', await startService('reid', cluster.urls, env));
    const started = await Promise.all((['detector', 'gateway'] as const).map(async (name) => [name, await startService(name, cluster.urls, { ...env, ...(name === 'gateway' ? TEST_GATEWAY_ENV : {}) })] as const));
    for (const [name, svc] of started) services.set(name, svc);
    client = await TestWsClient.connect(`ws://127.0.0.1:${services.get('gateway')!.httpPort}${WS_PATH}`);
    await client.join(ROOM, roomToken(ROOM, 'viewer'));
    await client.subscribe(ROOM);
  }, 240_000);

  afterAll(async () => {
    await client?.close();
    await nc?.close();
    await Promise.all([...services.values()].map((s) => s.stop()));
    await stopAllProcesses();
    await cluster?.stop();
  });

  it('analysis goes on and no acknowledged KV update, event or enrollment is lost', async () => {
    const jsm = await jetstreamManager(nc);
    // Every store the running services opened is R3.
    for (const decl of STORES) {
      const info = await jsm.streams.info(streamNameOf(decl)).catch(() => undefined);
      if (info) expect([decl.name, info.config.num_replicas]).toEqual([decl.name, 3]);
    }
    const events = await jsm.streams.info(EVENT_STREAM.name);
    expect(events.config.num_replicas).toBe(3);

    const kv = await new Kvm(nc).create('resilience_counter', { replicas: 3, history: 1 });
    await kv.put('n', '0');
    const js = jetstream(nc, { timeout: 5000 });

    let running = true;
    const failures: Record<string, number> = { kv: 0, event: 0, enroll: 0 };
    // A CAS counter: each acknowledged update names the value it wrote.
    const ackedValues: number[] = [];
    let ambiguous = 0;
    const counter = (async () => {
      while (running) {
        try {
          const cur = await kv.get('n');
          const value = Number(cur!.string()) + 1;
          try {
            await kv.update('n', String(value), cur!.revision);
            ackedValues.push(value);
          } catch (err) {
            if (!/wrong last sequence/i.test((err as Error).message)) ambiguous++;
            throw err;
          }
        } catch {
          failures.kv!++;
          await sleep(100);
        }
        await sleep(20);
      }
    })();
    // Events with a Nats-Msg-Id: a timed-out publish is retried with the same id, as reid would.
    const ackedEvents: string[] = [];
    const publisher = (async () => {
      for (let i = 0; running; i++) {
        const a = probeAlert(i);
        for (;;) {
          try {
            await js.publish(subjects.alerts(PROBE_ROOM, 's1'), JSON.stringify(a), { msgID: `probe:${i}` });
            ackedEvents.push(`probe:${i}`);
            break;
          } catch {
            failures.event!++;
            if (!running) break;
            await sleep(100);
          }
        }
        await sleep(50);
      }
    })();
    // Enrollments through reid (each acknowledged after its KV put), one person after another.
    const people = fs.readdirSync(FACES).sort().slice(0, 12);
    const enrolled: string[] = [];
    const enroller = (async () => {
      for (const person of people) {
        if (!running) break;
        const subjectId = `c-${person.replace(/_/g, '-')}`;
        for (const file of fs.readdirSync(path.join(FACES, person)).sort()) {
          const r = await galleryCall(nc, 'enroll', { subjectId, name: person, images: [fs.readFileSync(path.join(FACES, person, file)).toString('base64')] }, 15_000).catch(() => undefined);
          if (r?.ok || (r && !r.ok && r.error.code === 'exists')) {
            enrolled.push(subjectId);
            break;
          }
          if (!r) failures.enroll!++;
        }
        await sleep(1000);
      }
    })();

    const analysis = recordAnalysis(client);
    const frames = new FramePublisher(nc);
    const published: Array<{ seq: number; at: number }> = [];
    let seq = 0;
    const pump = setInterval(() => {
      frames.publish(ROOM, STREAM, frame, { seq });
      published.push({ seq: seq++, at: Date.now() });
    }, 1000 / FPS);

    try {
      await until('analysis before the kill', () => analysis.length >= 5, 120_000);
      await sleep(3000);
      const leader = (await jsm.streams.info(EVENT_STREAM.name)).cluster?.leader;
      const victim = cluster.nodes.find((n) => n.name === leader) ?? cluster.nodes[0]!;
      const killedAt = Date.now();
      const ackedAtKill = { kv: ackedValues.length, events: ackedEvents.length };
      await victim.kill();
      await sleep(10_000);
      const during = { kv: ackedValues.length - ackedAtKill.kv, events: ackedEvents.length - ackedAtKill.events };
      const restartAt = Date.now();
      await victim.start();
      // Caught up: the events stream has all three replicas current again.
      await until(
        'the restarted node caught up on the events stream',
        async () => {
          const c = (await jsm.streams.info(EVENT_STREAM.name).catch(() => undefined))?.cluster;
          return !!c?.leader && (c.replicas ?? []).length === 2 && (c.replicas ?? []).every((r) => r.current);
        },
        120_000,
        250,
      );
      const caughtUpAt = Date.now();
      await sleep(12_000);
      running = false;
      clearInterval(pump);
      await Promise.all([counter, publisher, enroller]);
      const end = Date.now();

      const answered = new Set(analysis.map((a) => a.seq));
      const inOutage = published.filter((p) => p.at >= killedAt && p.at < restartAt);
      const gap = longestGap(analysis.map((a) => a.at), killedAt - 2000, end);
      const afterWindow = published.filter((p) => p.at > caughtUpAt && p.at < end - 3000);
      const beforeWindow = published.filter((p) => p.at > killedAt - 3000 && p.at < killedAt);
      console.log(
        `3-node cluster, ${victim.name} (events leader) SIGKILLed for ${((restartAt - killedAt) / 1000).toFixed(1)} s: longest analysis gap ${(gap / 1000).toFixed(1)} s; ` +
          `frames published while it was down ${inOutage.length}, unanswered ${inOutage.filter((p) => !answered.has(p.seq)).length}; steady state unanswered before ${beforeWindow.filter((p) => !answered.has(p.seq)).length}/${beforeWindow.length}, after catch-up ${afterWindow.filter((p) => !answered.has(p.seq)).length}/${afterWindow.length}; ` +
          `node back and caught up in ${((caughtUpAt - restartAt) / 1000).toFixed(1)} s; acknowledged while down: ${during.kv} CAS updates, ${during.events} events; ` +
          `total acknowledged ${ackedValues.length} CAS updates, ${ackedEvents.length} events, ${enrolled.length} enrollments; failed attempts ${JSON.stringify(failures)}, ambiguous CAS ${ambiguous}`,
      );
      expect(during.kv).toBeGreaterThan(0);
      expect(during.events).toBeGreaterThan(0);
      expect(gap).toBeLessThan(15_000);
      // Analysis flows again after the node is back (a loaded 2-core machine sheds some frames anyway).
      expect(afterWindow.filter((p) => answered.has(p.seq)).length).toBeGreaterThanOrEqual(afterWindow.length / 2);
    } finally {
      running = false;
      clearInterval(pump);
    }

    // The counter holds the last acknowledged value (or one more, from an update whose ack was lost).
    const last = ackedValues.at(-1)!;
    const final = Number((await kv.get('n'))!.string());
    expect(final).toBeGreaterThanOrEqual(last);
    expect(final - last).toBeLessThanOrEqual(ambiguous);
    expect(ackedValues).toEqual([...ackedValues].sort((a, b) => a - b));

    // Every acknowledged event is in the stream, once.
    const stored: string[] = [];
    const consumer = await js.consumers.get(EVENT_STREAM.name, { filter_subjects: subjects.alerts(PROBE_ROOM, 's1') });
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 500, expires: 2000 });
      let n = 0;
      for await (const m of batch) {
        stored.push(m.headers?.get('Nats-Msg-Id') ?? '');
        n++;
      }
      if (n === 0) break;
    }
    const storedSet = new Set(stored);
    expect(ackedEvents.filter((id) => !storedSet.has(id))).toEqual([]);
    expect(stored.length).toBe(storedSet.size);

    // Every acknowledged enrollment is in the gallery.
    const listed = await galleryCall(nc, 'list', {});
    if (!listed.ok) throw new Error(JSON.stringify(listed.error));
    const ids = new Set(listed.subjects.map((s) => s.subjectId));
    expect(enrolled.length).toBeGreaterThan(0);
    expect(enrolled.filter((id) => !ids.has(id))).toEqual([]);
  }, 480_000);
});
