import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { decodeJson, kvBuckets, roomPlacement, sfuEvent, sfuRoomRecord, subjects, type SfuEvent } from '@lookout/contracts';
import { childProcesses, FIXTURES, metricValue, sfuCall, sfuOk, startNatsServer, startService, stopAllProcesses, type NatsServer, type RunningService } from '@lookout/testkit';

const VIDEO = 'video/two-people-sequential-640x480-15fps.webm';
// A short heartbeat TTL, so a restarted SFU under a new id adopts the dead one's rooms within seconds.
const TTL_MS = 3000;

/**
 * Rooms outlive the processes that carry them: a mediasoup worker SIGKILLed, then the SFU
 * itself SIGKILLed (a new SFU under another id adopts its rooms once its heartbeat expires),
 * then a restart under the same id (adopts at once). Each time the room keeps its id and
 * rate, its file ingest comes back, and its frames flow again on NATS.
 */
describe('SFU state survives a lost worker and a lost SFU (real mediasoup, ffmpeg, NATS)', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let records: KV;
  let placements: KV;
  let sfu: RunningService;
  const events: SfuEvent[] = [];
  // The ingest root: a copy of the fixture video, and one the last test takes away and brings back.
  const root = mkdtempSync(path.join(os.tmpdir(), 'sfu-restore-'));
  const waiters = new Set<{ match: (e: SfuEvent) => boolean; resolve: (e: SfuEvent) => void }>();

  const startSfu = (instance: string) =>
    startService('sfu', nats.url, { INSTANCE_ID: instance, MEDIASOUP_WORKERS: '1', INGEST_FILE_ROOT: root, REGISTRY_TTL_MS: String(TTL_MS) });

  /** The first event from index `from` on that matches. */
  const event = (match: (e: SfuEvent) => boolean, from: number, timeoutMs = 60_000) => {
    const seen = events.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<SfuEvent>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching sfu event in ${timeoutMs} ms; saw ${JSON.stringify(events.slice(from))}`)), timeoutMs);
      waiters.add({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  };
  /** Resolves once `n` frames of the stream have been published from now on. */
  const frames = (room: string, stream: string, n: number, timeoutMs = 90_000) =>
    new Promise<number>((resolve, reject) => {
      let seen = 0;
      const sub = nc.subscribe(subjects.frames(room, stream), {
        callback: () => {
          if (++seen < n) return;
          clearTimeout(timer);
          sub.unsubscribe();
          resolve(Date.now());
        },
      });
      const timer = setTimeout(() => (sub.unsubscribe(), reject(new Error(`${seen} of ${n} frames of ${room}/${stream} in ${timeoutMs} ms`))), timeoutMs);
    });
  const live = (room: string, stream: string, from: number) => event((e) => e.type === 'stream_state' && e.room === room && e.stream === stream && e.state === 'live', from, 90_000);
  const record = async (room: string) => {
    const e = await records.get(room);
    return e?.operation === 'PUT' ? sfuRoomRecord.parse(e.json()) : undefined;
  };
  const owner = async (room: string) => {
    const e = await placements.get(room);
    return e?.operation === 'PUT' ? roomPlacement.parse(e.json()).instance : undefined;
  };

  /** SIGKILL, as a crash: the SFU's children (worker, ffmpeg) are left to die by themselves, and any that do not are killed here. */
  const crash = async (s: RunningService) => {
    const children = [...(await childProcesses(s.child.pid!, 'ffmpeg')), ...(await childProcesses(s.child.pid!, 'mediasoup-worke'))];
    s.child.kill('SIGKILL');
    await s.exited;
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  beforeAll(async () => {
    mkdirSync(path.join(root, 'video'));
    copyFileSync(path.join(FIXTURES, VIDEO), path.join(root, VIDEO));
    copyFileSync(path.join(FIXTURES, VIDEO), path.join(root, 'video/second.webm'));
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'sfu-restore-test' });
    nc.subscribe(subjects.sfuEventsAll(), {
      callback: (_e, m) => {
        const e = decodeJson(sfuEvent, m.data);
        events.push(e);
        for (const w of waiters) {
          if (!w.match(e)) continue;
          waiters.delete(w);
          w.resolve(e);
        }
      },
    });
    sfu = await startSfu('sfu-restore-a');
    const kvm = new Kvm(nc);
    [records, placements] = await Promise.all([kvm.open(kvBuckets.sfuRooms), kvm.open(kvBuckets.roomPlacement)]);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await stopAllProcesses();
    await nats?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('a room whose mediasoup worker is killed is built again with its rate and ingest, and its frames flow again', async () => {
    await sfuOk(nc, 'sfu-restore-a', 'createRoom', { room: 'kept', sampleFps: 4 });
    await sfuOk(nc, 'sfu-restore-a', 'ingest', { room: 'kept', stream: 'cam', url: VIDEO, loop: true });
    await frames('kept', 'cam', 3);
    expect(await record('kept')).toMatchObject({ room: 'kept', sampleFps: 4, ingests: [{ stream: 'cam', url: VIDEO, loop: true }] });

    const [worker] = await childProcesses(sfu.child.pid!, 'mediasoup-worke');
    const from = events.length;
    const killed = Date.now();
    process.kill(worker!, 'SIGKILL');
    await event((e) => e.type === 'worker_died' && e.room === 'kept', from);
    // The room is there all along (reconnecting, then live), never unknown.
    const during = await sfuOk(nc, 'sfu-restore-a', 'getRoom', { room: 'kept' });
    expect(during).toMatchObject({ room: 'kept', sampleFps: 4, streams: [{ stream: 'cam', source: 'ingest' }] });
    expect(['reconnecting', 'live']).toContain(during.streams[0]!.state);
    await live('kept', 'cam', from);
    const again = await frames('kept', 'cam', 5);
    console.log(`worker killed: frames again ${again - killed} ms later`);
    expect(events.slice(from)).not.toContainEqual(expect.objectContaining({ type: 'room_closed', room: 'kept' }));
    expect(events.slice(from)).toContainEqual({ type: 'stream_state', room: 'kept', stream: 'cam', state: 'reconnecting' });
    const metrics = (await sfu.get('/metrics')).body;
    expect(metricValue(metrics, 'lookout_sfu_rooms_restored_total', { cause: 'worker' })).toBe(1);
    expect(metricValue(metrics, 'lookout_sfu_rooms')).toBe(1);
    expect(await owner('kept')).toBe('sfu-restore-a');
  }, 180_000);

  it('a killed SFU\'s rooms are adopted by a new SFU once its heartbeat expires: same rate, ingest restarted, frames again', async () => {
    await crash(sfu);
    const killed = Date.now();
    const from = events.length;
    sfu = await startSfu('sfu-restore-b');
    await event((e) => e.type === 'worker_died' && e.room === 'kept' && e.instance === 'sfu-restore-b', from, 60_000);
    expect(await owner('kept')).toBe('sfu-restore-b');
    await live('kept', 'cam', from);
    const again = await frames('kept', 'cam', 5);
    console.log(`SFU killed: adopted and frames again ${again - killed} ms later (heartbeat TTL ${TTL_MS} ms)`);
    expect(await sfuOk(nc, 'sfu-restore-b', 'getRoom', { room: 'kept' })).toMatchObject({ sampleFps: 4, streams: [{ stream: 'cam', state: 'live' }] });
    expect(metricValue((await sfu.get('/metrics')).body, 'lookout_sfu_rooms_restored_total', { cause: 'adopted' })).toBe(1);
  }, 180_000);

  it('a closed room is gone for good, while an SFU restarted under its own id takes its other rooms back at once', async () => {
    await sfuOk(nc, 'sfu-restore-b', 'setSampleRate', { room: 'kept', fps: 2 });
    await sfuOk(nc, 'sfu-restore-b', 'createRoom', { room: 'closed' });
    await sfuOk(nc, 'sfu-restore-b', 'ingest', { room: 'closed', stream: 'cam', url: VIDEO, loop: true });
    await sfuOk(nc, 'sfu-restore-b', 'closeRoom', { room: 'closed' });
    expect(await record('closed')).toBeUndefined();
    expect(await record('kept')).toMatchObject({ sampleFps: 2 });

    await crash(sfu);
    const from = events.length;
    const killed = Date.now();
    sfu = await startSfu('sfu-restore-b');
    await event((e) => e.type === 'worker_died' && e.room === 'kept', from, 30_000);
    const adoptedMs = Date.now() - killed;
    console.log(`SFU restarted under its own id: room back ${adoptedMs} ms after the kill`);
    await live('kept', 'cam', from);
    await frames('kept', 'cam', 3);
    expect(await sfuOk(nc, 'sfu-restore-b', 'getRoom', { room: 'kept' })).toMatchObject({ sampleFps: 2 });
    const closed = await sfuCall(nc, 'sfu-restore-b', 'getRoom', { room: 'closed' });
    expect(closed).toMatchObject({ ok: false, error: { code: 'unknown_room' } });
    expect(await owner('closed')).toBeUndefined();
    expect(events.slice(from)).not.toContainEqual(expect.objectContaining({ room: 'closed' }));
  }, 180_000);

  it('an ingest that cannot be restored stays failed, saying why, and is tried again until it can', async () => {
    await sfuOk(nc, 'sfu-restore-b', 'createRoom', { room: 'retry', sampleFps: 4 });
    await sfuOk(nc, 'sfu-restore-b', 'ingest', { room: 'retry', stream: 'cam', url: 'video/second.webm', loop: true });
    await frames('retry', 'cam', 2);
    renameSync(path.join(root, 'video/second.webm'), path.join(root, 'away.webm'));
    const [worker] = await childProcesses(sfu.child.pid!, 'mediasoup-worke');
    const from = events.length;
    process.kill(worker!, 'SIGKILL');
    const failed = await event((e) => e.type === 'stream_state' && e.room === 'retry' && e.state === 'failed', from);
    expect(failed).toMatchObject({ stream: 'cam', error: expect.stringContaining('cannot read video/second.webm') });
    // The other room's ingest is back meanwhile.
    await live('kept', 'cam', from);
    const back = events.length;
    renameSync(path.join(root, 'away.webm'), path.join(root, 'video/second.webm'));
    await live('retry', 'cam', back);
    await frames('retry', 'cam', 3);
    expect(await sfuOk(nc, 'sfu-restore-b', 'getRoom', { room: 'retry' })).toMatchObject({ sampleFps: 4, streams: [{ stream: 'cam', state: 'live' }] });
  }, 180_000);
});
