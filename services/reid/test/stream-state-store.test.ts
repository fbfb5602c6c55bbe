import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { createLogger, openKv, type StorageOptions } from '@lookout/service-kit';
import { startNatsServer, stopAllProcesses, type NatsServer } from '@lookout/testkit';
import { initialStreamState } from '../src/stream/core/advance.js';
import { StreamStateStore } from '../src/stream/stream-state-store.js';
import type { SubjectRefs } from '../src/stream/state-pseudonyms.js';

/**
 * The stream-state store against a real nats-server: two "replicas", each with its own
 * connection and store, write one stream's state by compare-and-set. A replica reads its
 * own last write without a round trip, and a write by anyone else makes it read KV again.
 */
const log = createLogger('reid-test', 'silent', 'test');
const refs: SubjectRefs = { refOf: () => undefined, byRef: () => undefined };

describe('StreamStateStore (real nats-server)', () => {
  let nats: NatsServer;
  const conns: NatsConnection[] = [];

  async function replica(now?: () => number): Promise<{ kv: KV; store: StreamStateStore; gets: () => number }> {
    const nc = await connect({ servers: nats.url });
    conns.push(nc);
    const opts: StorageOptions = { service: 'reid', replicas: 1, log };
    const kv = await openKv(nc, 'streamState', opts);
    let gets = 0;
    const get = kv.get.bind(kv);
    kv.get = (...args: Parameters<KV['get']>) => {
      gets++;
      return get(...args);
    };
    return { kv, store: new StreamStateStore(kv, refs, now), gets: () => gets };
  }

  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    for (const nc of conns) await nc.close();
    await stopAllProcesses();
    await nats.stop();
  });

  it('reads its own last write without asking KV, and the next write still checks the revision', async () => {
    const a = await replica();
    const first = await a.store.read('room.cam');
    expect(first).toEqual({ state: null, revision: 0 });
    expect(await a.store.write('room.cam', { ...initialStreamState(null), lastSeq: 1 }, 0)).toBe(true);
    const again = await a.store.read('room.cam');
    expect(again.state?.lastSeq).toBe(1);
    expect(again.revision).toBe((await a.kv.get('room.cam'))!.revision);
    expect(a.gets()).toBe(2); // the first read and the check just above, not the second read
    expect(await a.store.write('room.cam', { ...again.state!, lastSeq: 2 }, again.revision)).toBe(true);
    expect(JSON.parse((await a.kv.get('room.cam'))!.string()).lastSeq).toBe(2);
  });

  it('after another writer, fails the write, then reads KV first', async () => {
    const a = await replica();
    const b = await replica();
    expect(await a.store.write('room.shared', { ...initialStreamState(null), lastSeq: 1 }, 0)).toBe(true);
    const fromB = await b.store.read('room.shared');
    expect(await b.store.write('room.shared', { ...fromB.state!, lastSeq: 2 }, fromB.revision)).toBe(true);
    // a still holds its own write's revision: its write loses the compare-and-set.
    const stale = await a.store.read('room.shared');
    expect(stale.state?.lastSeq).toBe(1);
    expect(await a.store.write('room.shared', { ...stale.state!, lastSeq: 3 }, stale.revision)).toBe(false);
    const gets = a.gets();
    const fresh = await a.store.read('room.shared');
    expect(fresh.state?.lastSeq).toBe(2);
    expect(a.gets()).toBe(gets + 1);
    // Contended: even after its own successful write, a reads KV first for a while.
    expect(await a.store.write('room.shared', { ...fresh.state!, lastSeq: 3 }, fresh.revision)).toBe(true);
    await a.store.read('room.shared');
    expect(a.gets()).toBe(gets + 2);
  });

  it('trusts its own write only for a few seconds', async () => {
    let now = 1_000_000;
    const a = await replica(() => now);
    expect(await a.store.write('room.old', { ...initialStreamState(null), lastSeq: 1 }, 0)).toBe(true);
    now += 6_000;
    await a.store.read('room.old');
    expect(a.gets()).toBe(1);
  });
});
