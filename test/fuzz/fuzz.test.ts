import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import sharp from 'sharp';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  alertEvent,
  analysisMessage,
  facesMessage,
  rpc,
  RPC_OPS,
  sfuEvent,
  streamMetricsEvent,
  WS_PATH,
  type ServiceName,
} from '@lookout/contracts';
import {
  allowedCodes,
  artifact,
  feedReceives,
  FIXTURES,
  frameAccepted,
  frameCases,
  FUZZ_ROOM as ROOM,
  fuzzPool as pool,
  fuzzWebSocket,
  jsonAccepted,
  jsonCases,
  previewAccepted,
  rpcCases,
  rpcVerdict,
  sendRpc,
  toNatsHeaders,
  validExample,
  WS_MAX_MESSAGE_BYTES,
  FramePublisher,
  isAnalysis,
  roomToken,
  startNatsServer,
  startService,
  stopAllProcesses,
  TEST_ADMIN_KEY,
  TEST_GATEWAY_ENV,
  TestWsClient,
  type FrameCase,
  type JsonCase,
  type NatsServer,
  type RunningService,
  type WsSummary,
} from '@lookout/testkit';

/**
 * Property-based fuzzing (fast-check) of every NATS subject a service consumes, every
 * request/reply operation and every WebSocket client message, against the real services:
 * thousands of hostile cases each (random bytes, broken or wrongly typed JSON, huge
 * numbers, deep nesting, prototype-pollution keys, oversize strings, missing, doubled or
 * garbage headers, and valid messages with one field mutated). Afterwards every service is
 * alive and ready, every refusal was counted in a metric (the counts match what the test
 * computes with the same contracts validators), every request got an error naming the
 * field, and a valid frame still goes through the pipeline.
 *
 * FUZZ_CASES (default 2000) sets the cases per subject and per operation; FUZZ_SEED
 * replays a run. Counts go to test-artifacts/fuzz-summary.json.
 */
const CASES = Number(process.env.FUZZ_CASES ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const SFU_INSTANCE = 'sfu-fuzz';
const sample = <T>(arb: fc.Arbitrary<T>, n: number, salt: number): T[] => fc.sample(arb, { numRuns: n, seed: SEED + salt });

/** Sum of every sample of `name` whose labels include `labels`. */
function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
  }
  return sum;
}

interface SubjectSummary {
  consumer: string;
  cases: number;
  refused: number;
  refusalsCounted: number;
  accepted: number;
  metric: string;
  badCrops?: number;
}

describe('fuzz: NATS subjects, operations and WebSocket messages (real nats-server and services)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  const services = new Map<ServiceName, RunningService>();
  let feedClient: TestWsClient;
  let jpeg: Uint8Array;
  const summary: { seed: number; casesPerSubject: number; subjects: Record<string, SubjectSummary>; operations: Record<string, unknown>; websocket?: WsSummary; crashes: number } = {
    seed: SEED,
    casesPerSubject: CASES,
    subjects: {},
    operations: {},
    crashes: 0,
  };
  const svc = (name: ServiceName) => services.get(name)!;
  const metrics = async (name: ServiceName) => (await svc(name).get('/metrics')).body;

  /** Publishes fire-and-forget, flushing every 200 messages so the client's buffer stays small. */
  async function publishAll<T>(cases: readonly T[], send: (c: T) => void): Promise<void> {
    for (let i = 0; i < cases.length; i++) {
      send(cases[i]!);
      if (i % 200 === 199) await nc.flush();
    }
    await nc.flush();
  }

  /** Waits until `read` gives the same value twice 1 s apart (the consumer has caught up). */
  async function settled(name: ServiceName, read: (text: string) => number, timeoutMs = 60_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    let last = NaN;
    for (;;) {
      const text = await metrics(name);
      const v = read(text);
      if (v === last) return text;
      if (Date.now() > end) throw new Error(`${name}: metrics never settled`);
      last = v;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'fuzz-test' });
    // A small face JPEG: valid bodies are analysed for real, and should not take long.
    jpeg = new Uint8Array(await sharp(path.join(FIXTURES, 'faces/identities/barack_obama/fr_obama.jpg')).resize(160, 160).jpeg({ quality: 70 }).toBuffer());
    // Patient workers: the frame sent after the storm must not be shed as stale on a busy machine.
    const patient = { MAX_FRAME_AGE_MS: '60000' };
    const started = await Promise.all([
      startService('detector', nats.url, patient).then((s) => ['detector', s] as const),
      startService('reid', nats.url, patient).then((s) => ['reid', s] as const),
      startService('sfu', nats.url, { INSTANCE_ID: SFU_INSTANCE, MEDIASOUP_WORKERS: '1', RTC_LISTEN_IP: '127.0.0.1' }).then((s) => ['sfu', s] as const),
      startService('gateway', nats.url, { ...TEST_GATEWAY_ENV, INSTANCE_ID: 'gateway-fuzz', WS_MAX_MESSAGE_BYTES: String(WS_MAX_MESSAGE_BYTES), WS_HEARTBEAT_MS: '60000' }).then((s) => ['gateway', s] as const),
    ]);
    for (const [name, s] of started) services.set(name, s);
    // Follows every feed of the fuzz room, so the gateway subscribes to them all.
    feedClient = await TestWsClient.connect(`ws://127.0.0.1:${svc('gateway').httpPort}${WS_PATH}`);
    await feedClient.join(ROOM, TEST_ADMIN_KEY);
    await feedClient.subscribe(ROOM, ['analysis', 'alerts', 'metrics', 'preview']);
  }, 180_000);

  afterAll(async () => {
    fs.writeFileSync(artifact('fuzz-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    const rows = Object.entries(summary.subjects).map(([s, r]) => `  ${s.padEnd(28)} ${r.consumer.padEnd(9)} cases ${r.cases}, refused ${r.refused}, counted ${r.refusalsCounted} (${r.metric})`);
    process.stdout.write(`fuzz summary (seed ${SEED}; test-artifacts/fuzz-summary.json):\n${rows.join('\n')}\n  operations: ${Object.keys(summary.operations).length}, crashes: ${summary.crashes}\n`);
    await feedClient?.close();
    await nc?.close();
    await Promise.all([...services.values()].map((s) => s.stop()));
    await stopAllProcesses();
    await nats?.stop();
  }, 60_000);

  it(`frames.> (detector): ${CASES} hostile frames, each refusal counted, every frame accounted for`, async () => {
    const cases = sample(frameCases('frames', jpeg), CASES, 1);
    const before = await metrics('detector');
    let refused = 0;
    let accepted = 0;
    let unsendable = 0;
    await publishAll(cases, (c: FrameCase) => {
      const h = toNatsHeaders(c);
      if (!h) return void unsendable++;
      if (frameAccepted(c)) accepted++;
      else refused++;
      nc.publish(c.subject, c.body, { headers: h });
    });
    const total = (t: string) => metricSum(t, 'lookout_detector_frames_received_total') + metricSum(t, 'lookout_bad_messages_total', { subject_kind: 'frames', reason: 'bad_headers' });
    const base = total(before);
    const end = Date.now() + 60_000;
    while (total(await metrics('detector')) - base < accepted + refused && Date.now() < end) await new Promise((r) => setTimeout(r, 500));
    // Every frame taken ends as processed or dropped (stale, superseded, bad_frame).
    const outcomes = (t: string) => metricSum(t, 'lookout_detector_frames_processed_total') + metricSum(t, 'lookout_detector_frames_dropped_total');
    const after = await settled('detector', outcomes);
    const d = (name: string, labels: Record<string, string> = {}) => metricSum(after, name, labels) - metricSum(before, name, labels);
    const badHeaders = d('lookout_bad_messages_total', { subject_kind: 'frames', reason: 'bad_headers' });
    summary.subjects['frames.>'] = { consumer: 'detector', cases: cases.length - unsendable, refused, refusalsCounted: badHeaders, accepted, metric: 'lookout_bad_messages_total{subject_kind="frames"}, lookout_detector_frames_dropped_total' };
    expect(unsendable).toBeLessThan(cases.length / 10);
    expect(badHeaders).toBe(refused);
    expect(d('lookout_detector_frames_received_total')).toBe(accepted);
    expect(d('lookout_detector_frames_processed_total') + d('lookout_detector_frames_dropped_total')).toBe(accepted + refused);
  }, 120_000);

  it(`faces.> (reid): ${CASES} hostile faces messages, each refusal counted, every message accounted for`, async () => {
    const valid = (room: string, stream: string) =>
      validExample(facesMessage, { room: /^[\w-]{1,64}$/.test(room) ? room : ROOM, stream: /^[\w-]{1,64}$/.test(stream) ? stream : 's0', captureMs: Date.now(), worker: 'fuzz' });
    const cases = sample(jsonCases('faces', valid), CASES, 2);
    const before = await metrics('reid');
    let refused = 0;
    await publishAll(cases, (c: JsonCase) => {
      const ok = jsonAccepted(facesMessage, c.payload.bytes, (v) => c.subject === `faces.${String(v.room)}.${String(v.stream)}`);
      if (!ok) refused++;
      nc.publish(c.subject, c.payload.bytes);
    });
    const outcomes = (t: string) => metricSum(t, 'lookout_bad_messages_total', { subject_kind: 'faces', reason: 'invalid' }) + metricSum(t, 'lookout_reid_frames_dropped_total') + metricSum(t, 'lookout_reid_frames_total');
    const base = outcomes(before);
    const end = Date.now() + 90_000;
    while (outcomes(await metrics('reid')) - base < cases.length && Date.now() < end) await new Promise((r) => setTimeout(r, 500));
    const after = await settled('reid', outcomes);
    const d = (name: string, labels: Record<string, string> = {}) => metricSum(after, name, labels) - metricSum(before, name, labels);
    // A message refused whole is `invalid`; a face whose crop is not a JPEG is `bad_crop` (the message goes on without it).
    const counted = d('lookout_bad_messages_total', { subject_kind: 'faces', reason: 'invalid' });
    summary.subjects['faces.>'] = {
      consumer: 'reid',
      cases: cases.length,
      refused,
      refusalsCounted: counted,
      accepted: cases.length - refused,
      badCrops: d('lookout_bad_messages_total', { subject_kind: 'faces', reason: 'bad_crop' }),
      metric: 'lookout_bad_messages_total{subject_kind="faces"}, lookout_reid_frames_dropped_total, lookout_reid_frames_total',
    };
    expect(counted).toBe(refused);
    // Each accepted message is shed (superseded, stale) or handled (committed, late, uncommitted, failed).
    expect(d('lookout_reid_frames_dropped_total') + d('lookout_reid_frames_total')).toBe(cases.length - refused);
  }, 150_000);

  it(`sfuevents.* (reid, gateway): ${CASES} hostile SFU events, each refusal counted`, async () => {
    const variants = [
      { type: 'stream_state', room: ROOM, stream: 's0', state: 'live' },
      { type: 'worker_died', room: ROOM, instance: 'x' },
      { type: 'room_closed', room: 'nobody-here' },
      { type: 'analysis_state', room: ROOM, stream: 's1', analysis: { state: 'live' } },
    ];
    const valid = variants.filter((v) => sfuEvent.is(v));
    expect(valid.length).toBeGreaterThanOrEqual(3);
    const arb = fc.constantFrom(...valid).chain((v) =>
      fc.constantFrom(`sfuevents.${ROOM}`, `sfuevents.${ROOM}`, 'sfuevents.other', 'sfuevents.__proto__').chain((subject) => jsonCases('x', () => v).map((c) => ({ ...c, subject }))),
    );
    const cases = sample(arb, CASES, 3);
    const [reidBefore, gwBefore] = await Promise.all([metrics('reid'), metrics('gateway')]);
    let reidRefused = 0;
    let gwRefused = 0;
    await publishAll(cases, (c) => {
      if (!jsonAccepted(sfuEvent, c.payload.bytes)) reidRefused++;
      if (c.subject === `sfuevents.${ROOM}` && !jsonAccepted(sfuEvent, c.payload.bytes, (v) => v.room === ROOM)) gwRefused++;
      nc.publish(c.subject, c.payload.bytes);
    });
    const reidCount = (t: string) => metricSum(t, 'lookout_bad_messages_total', { subject_kind: 'sfu_event' });
    const gwCount = (t: string) => metricSum(t, 'lookout_bad_messages_total', { subject_kind: 'sfuevents' });
    const [reidAfter, gwAfter] = await Promise.all([settled('reid', reidCount), settled('gateway', gwCount)]);
    summary.subjects['sfuevents.* (reid)'] = { consumer: 'reid', cases: cases.length, refused: reidRefused, refusalsCounted: reidCount(reidAfter) - reidCount(reidBefore), accepted: cases.length - reidRefused, metric: 'lookout_bad_messages_total{subject_kind="sfu_event"}' };
    summary.subjects['sfuevents.<room> (gateway)'] = { consumer: 'gateway', cases: cases.filter((c) => c.subject === `sfuevents.${ROOM}`).length, refused: gwRefused, refusalsCounted: gwCount(gwAfter) - gwCount(gwBefore), accepted: 0, metric: 'lookout_bad_messages_total{subject_kind="sfuevents"}' };
    expect(reidCount(reidAfter) - reidCount(reidBefore)).toBe(reidRefused);
    expect(gwCount(gwAfter) - gwCount(gwBefore)).toBe(gwRefused);
  }, 120_000);

  it(`analysis, alerts, metrics, previews (gateway feeds): ${CASES} hostile messages each, each refusal counted`, async () => {
    const now = Date.now();
    const feeds = [
      { kind: 'analysis', label: 'analysis', v: analysisMessage, valid: (room: string, stream: string) => validExample(analysisMessage, { room, stream, captureMs: now }) },
      { kind: 'alerts', label: 'alerts', v: alertEvent, valid: (room: string, stream: string) => validExample(alertEvent, { room, stream, startMs: now, kind: 'no_face', state: 'open', severity: 'warning' }) },
      { kind: 'metrics', label: 'metrics', v: streamMetricsEvent, valid: (room: string, stream: string) => validExample(streamMetricsEvent, { room, stream }) },
    ] as const;
    const safeId = (s: string, d: string) => (/^[\w-]{1,64}$/.test(s) ? s : d);
    for (const [i, f] of feeds.entries()) {
      const cases = sample(
        jsonCases(f.kind, (r, s) => f.valid(safeId(r, ROOM), safeId(s, 's0'))),
        CASES,
        10 + i,
      );
      const before = await metrics('gateway');
      let refused = 0;
      let delivered = 0;
      await publishAll(cases, (c) => {
        if (feedReceives(c.subject, f.kind)) {
          delivered++;
          if (!jsonAccepted(f.v as never, c.payload.bytes, (v) => v.room === ROOM)) refused++;
        }
        nc.publish(c.subject, c.payload.bytes);
      });
      const count = (t: string) => metricSum(t, 'lookout_bad_messages_total', { subject_kind: f.label });
      const after = await settled('gateway', count);
      summary.subjects[`${f.kind}.<room>.* (gateway)`] = { consumer: 'gateway', cases: delivered, refused, refusalsCounted: count(after) - count(before), accepted: delivered - refused, metric: `lookout_bad_messages_total{subject_kind="${f.label}"}` };
      expect(count(after) - count(before)).toBe(refused);
    }
    // Previews: JPEG body and frame headers, like frames.
    const cases = sample(frameCases('previews', jpeg), CASES, 20);
    const before = await metrics('gateway');
    let refused = 0;
    let delivered = 0;
    await publishAll(cases, (c: FrameCase) => {
      const h = toNatsHeaders(c);
      if (!h) return;
      if (feedReceives(c.subject, 'previews')) {
        delivered++;
        if (!previewAccepted(c)) refused++;
      }
      nc.publish(c.subject, c.body, { headers: h });
    });
    const count = (t: string) => metricSum(t, 'lookout_bad_messages_total', { subject_kind: 'preview' });
    const after = await settled('gateway', count);
    summary.subjects['previews.<room>.* (gateway)'] = { consumer: 'gateway', cases: delivered, refused, refusalsCounted: count(after) - count(before), accepted: delivered - refused, metric: 'lookout_bad_messages_total{subject_kind="preview"}' };
    expect(count(after) - count(before)).toBe(refused);
    expect(feedClient.protocolErrors).toEqual([]);
  }, 150_000);

  it(`every request/reply operation: ${CASES} hostile requests each, each answered (invalid_request naming the field, never a timeout or internal) and counted`, async () => {
    const validRequests: Record<string, unknown> = {
      'gallery.enroll': { name: 'fuzz subject', images: [Buffer.from(jpeg).toString('base64')] },
      'gallery.add_images': { subjectId: 'fuzz', images: ['AAAA'] },
      'gallery.identify': { image: 'AAAA' },
      'gallery.negative': { subjectId: 'fuzz', faceRef: 'fuzz' },
      'sfu.ingest': { room: ROOM, stream: 'ingest-fuzz', url: 'rtsp://127.0.0.1:1/none' },
    };
    const failures: string[] = [];
    for (const [i, op] of RPC_OPS.entries()) {
      let valid: unknown;
      try {
        valid = validRequests[op.name] !== undefined && op.request.is(validRequests[op.name]) ? validRequests[op.name] : validExample(op.request, 'room' in (op.request.schema.properties ?? {}) ? { room: ROOM } : {});
      } catch (err) {
        throw new Error(`${op.name}: no valid example (${(err as Error).message})`);
      }
      const server: ServiceName = op.server;
      const subject = op.addressing === 'instance' ? op.subject(SFU_INSTANCE) : op.subject();
      const cases = sample(rpcCases(op, valid, jpeg), CASES, 100 + i);
      const before = await metrics(server);
      const allowed = allowedCodes(op);
      let invalid = 0;
      let answered = 0;
      const codes: Record<string, number> = {};
      const outcomes = await pool(cases, 32, async (c) => {
        const verdict = rpcVerdict(op, c);
        const out = await sendRpc(nc, subject, c, 30_000);
        if (out.kind === 'unsendable') return 'unsendable';
        if (out.kind !== 'reply') {
          failures.push(`${op.name}: ${out.kind} (${out.message}) for ${c.how}`);
          return out.kind;
        }
        answered++;
        const code = out.ok ? 'ok' : out.error.code;
        codes[code] = (codes[code] ?? 0) + 1;
        if (verdict.invalid) {
          invalid++;
          if (out.ok || out.error.code !== 'invalid_request') failures.push(`${op.name}: invalid request answered ${code} (${c.how})`);
          else if ((out.error.field ?? '') !== (verdict.field ?? '')) failures.push(`${op.name}: invalid_request names field ${JSON.stringify(out.error.field)}, expected ${JSON.stringify(verdict.field)} (${c.how})`);
        } else if (!out.ok && !allowed.has(out.error.code)) failures.push(`${op.name}: valid request answered ${out.error.code}: ${out.error.message} (${c.how})`);
        return 'reply';
      });
      const after = await metrics(server);
      const d = (name: string, labels: Record<string, string>) => metricSum(after, name, labels) - metricSum(before, name, labels);
      const counted = d('lookout_bad_messages_total', { subject_kind: op.name });
      summary.operations[op.name] = { server, cases: outcomes.filter((o) => o !== 'unsendable').length, answered, invalid, refusalsCounted: counted, codes, timeouts: outcomes.filter((o) => o === 'timeout').length };
      if (counted !== invalid) failures.push(`${op.name}: ${invalid} invalid requests, ${counted} counted in lookout_bad_messages_total`);
      if (d('lookout_rpc_served_total', { op: op.name, outcome: 'invalid_request' }) !== (codes.invalid_request ?? 0)) failures.push(`${op.name}: lookout_rpc_served_total{outcome="invalid_request"} does not match the replies`);
    }
    expect(failures.slice(0, 30)).toEqual([]);
  }, 300_000);

  it('every WebSocket client message type, as admin, publisher and viewer: answered, closed only as documented, refusals counted', async () => {
    const result = await fuzzWebSocket({
      url: `ws://127.0.0.1:${svc('gateway').httpPort}${WS_PATH}`,
      cases: CASES,
      seed: SEED,
      jpeg,
      tokens: { admin: TEST_ADMIN_KEY, publisher: roomToken(ROOM, 'publisher', { peer: 'fuzz-pub' }), viewer: roomToken(ROOM, 'viewer', { peer: 'fuzz-view' }) },
      metrics: () => metrics('gateway'),
    });
    summary.websocket = result.summary;
    expect(result.failures.slice(0, 30)).toEqual([]);
  }, 300_000);

  it('after the storm: every service alive and ready, and a valid frame still goes through the pipeline', async () => {
    for (const [name, s] of services) {
      expect([name, s.child.exitCode, s.child.signalCode]).toEqual([name, null, null]);
      expect([name, (await s.get('/healthz')).status, (await s.get('/readyz')).status]).toEqual([name, 200, 200]);
      if (s.output.some((l) => /uncaught|unhandled/i.test(l))) summary.crashes++;
    }
    expect(summary.crashes).toBe(0);
    const client = await TestWsClient.connect(`ws://127.0.0.1:${svc('gateway').httpPort}${WS_PATH}`);
    try {
      await client.join('after-storm', TEST_ADMIN_KEY);
      await client.subscribe('after-storm', ['analysis']);
      const face = fs.readFileSync(path.join(FIXTURES, 'faces/identities/barack_obama/fr_obama.jpg'));
      new FramePublisher(nc).publish('after-storm', 'cam', face);
      const { data } = await client.next(isAnalysis, 60_000);
      expect(data).toMatchObject({ room: 'after-storm', stream: 'cam' });
      expect(data.faces).toHaveLength(1);
      expect(client.protocolErrors).toEqual([]);
    } finally {
      await client.close();
    }
    // A request still answers.
    const listed = await sendRpc(nc, rpc.gallery.list.subject(), { body: new TextEncoder().encode('{}'), how: 'after' }, 30_000);
    expect(listed).toMatchObject({ kind: 'reply', ok: true });
  }, 120_000);
});

