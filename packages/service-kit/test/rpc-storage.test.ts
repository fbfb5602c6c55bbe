import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { LookoutError, rpc, RPC_REQUEST_HEADER, storage, type ServiceName } from '@lookout/contracts';
import { Counter, Registry } from 'prom-client';
import { startNatsServer, type NatsServer } from '@lookout/testkit';
import { call, createLogger, ensureStore, openKv, RpcServer, rpcMetrics, StorageMismatchError, type Responder } from '../src/index.js';

const log = createLogger('test', 'silent', 'test');

describe('serve and call (real nats-server)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let server: RpcServer;
  let registry: Registry;
  const responders: Responder[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    registry = new Registry();
    const bad = new Counter({ name: 'bad_total', help: 'x', labelNames: ['subject_kind', 'reason'], registers: [registry] });
    server = new RpcServer({ nc, log, metrics: rpcMetrics(registry, bad) });
  }, 30_000);

  afterAll(async () => {
    await Promise.all(responders.map((r) => r.stop()));
    await nc?.close();
    await nats?.stop();
  });

  it('validates both ways and carries LookoutError with its code, field and details', async () => {
    responders.push(
      server.serve(rpc.reid.endStream, async (req) => {
        if (req.stream === 'missing') throw new LookoutError('not_found', 'stream: no such stream', 'stream', { tried: 1 });
        if (req.stream === 'crash') throw new Error('boom');
        if (req.stream === 'bad-reply') return { closedEpisodes: -1 };
        return { closedEpisodes: 3 };
      }),
    );
    await nc.flush();
    await expect(call(nc, rpc.reid.endStream, { room: 'r', stream: 's' })).resolves.toEqual({ closedEpisodes: 3 });
    const missing = await call(nc, rpc.reid.endStream, { room: 'r', stream: 'missing' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(LookoutError);
    expect(missing).toMatchObject({ code: 'not_found', field: 'stream', details: { tried: 1 } });
    await expect(call(nc, rpc.reid.endStream, { room: 'r', stream: 'crash' })).rejects.toMatchObject({ code: 'internal', message: 'reid.end_stream failed' });
    await expect(call(nc, rpc.reid.endStream, { room: 'r', stream: 'bad-reply' })).rejects.toMatchObject({ code: 'internal' });
    // The caller refuses to send what the contract forbids…
    await expect(call(nc, rpc.reid.endStream, { room: 'r', stream: 'a.b' })).rejects.toMatchObject({ code: 'invalid_request', field: 'stream' });
    // …and the server refuses it when someone sends it anyway, and counts it.
    const raw = await nc.request(rpc.reid.endStream.subject(), '{"room":"r"}', { timeout: 5000 });
    expect(raw.json()).toMatchObject({ ok: false, error: { code: 'invalid_request', field: 'stream' } });
    const notJson = await nc.request(rpc.reid.endStream.subject(), 'nope', { timeout: 5000 });
    expect(notJson.json()).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(await registry.getSingleMetricAsString('bad_total')).toMatch(/subject_kind="reid.end_stream",reason="invalid"} 2/);
    expect(await registry.getSingleMetricAsString('lookout_rpc_served_total')).toMatch(/op="reid.end_stream",outcome="not_found"} 1/);
  });

  it('carries a payload beside the JSON request', async () => {
    const seen: Array<{ room?: string; bytes: number }> = [];
    responders.push(
      server.serve(rpc.detector.analyze, (req, ctx) => {
        seen.push({ ...req, bytes: ctx.payload.length });
        return { width: 1, height: 1, faces: [], timings: {} };
      }),
    );
    await nc.flush();
    await expect(call(nc, rpc.detector.analyze, { room: 'hall' }, { payload: new Uint8Array(10) })).resolves.toMatchObject({ width: 1 });
    const h = headers();
    h.set(RPC_REQUEST_HEADER, '{"room":"a.b"}');
    expect((await nc.request(rpc.detector.analyze.subject(), new Uint8Array(3), { headers: h, timeout: 5000 })).json()).toMatchObject({ ok: false, error: { code: 'invalid_request', field: 'room' } });
    expect(seen).toEqual([{ room: 'hall', bytes: 10 }]);
  });

  it('says unavailable, naming the service, when nobody serves the operation', async () => {
    await expect(call(nc, rpc.gallery.get, { subjectId: 'x' })).rejects.toMatchObject({ code: 'unavailable', message: 'gallery.get: no reid is running' });
    await expect(call(nc, rpc.sfu.getRoom, { room: 'x' }, { instance: 'sfu-1' })).rejects.toMatchObject({ code: 'unavailable' });
    await expect(call(nc, rpc.sfu.getRoom, { room: 'x' })).rejects.toThrow(/instance/);
  });
});

describe('stores as the table declares them (real nats-server)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  beforeEach(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
  }, 30_000);
  afterEach(async () => {
    await nc?.close();
    await nats?.stop();
  });
  const opts = (service: ServiceName, tuned = {}) => ({ service, replicas: 1, log, tuned });
  const config = async (name: string) => (await (await jetstreamManager(nc)).streams.info(name)).config;

  it('a user creates a missing store from the table; the owner applies its tuning; the user accepts tuned values', async () => {
    await openKv(nc, 'sfuInstances', opts('gateway'));
    expect((await config('KV_lookout_sfu_instances')).max_age).toBe(15_000 * 1e6);
    await openKv(nc, 'sfuInstances', opts('sfu', { sfuInstances: { ttlMs: 9000 } }));
    expect((await config('KV_lookout_sfu_instances')).max_age).toBe(9000 * 1e6);
    await expect(openKv(nc, 'sfuInstances', opts('gateway'))).resolves.toBeDefined();
  });

  it('a user refuses a store that differs; the owner brings it back to the table', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'KV_lookout_room_config', subjects: ['$KV.lookout_room_config.>'], max_msgs_per_subject: 5, allow_rollup_hdrs: true, deny_delete: true, allow_direct: true });
    const err = await openKv(nc, 'roomConfig', opts('detector')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageMismatchError);
    expect((err as Error).message).toMatch(/lookout_room_config: max_msgs_per_subject is 5 where the table says 1.*gateway/);
    await openKv(nc, 'roomConfig', opts('gateway'));
    expect((await config('KV_lookout_room_config')).max_msgs_per_subject).toBe(storage.roomConfig.history);
    await expect(openKv(nc, 'roomConfig', opts('detector'))).resolves.toBeDefined();
  });

  it('creates and updates the events stream', async () => {
    await ensureStore(nc, 'events', opts('gateway'));
    let c = await config('LOOKOUT_EVENTS');
    expect([c.subjects, c.max_age, c.duplicate_window]).toEqual([[...storage.events.subjects], storage.events.maxAgeMs * 1e6, storage.events.duplicateWindowMs * 1e6]);
    await ensureStore(nc, 'events', opts('reid', { events: { maxAgeMs: 3_600_000 } }));
    c = await config('LOOKOUT_EVENTS');
    expect(c.max_age).toBe(3_600_000 * 1e6);
  });
});
