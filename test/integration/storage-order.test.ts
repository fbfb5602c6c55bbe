// Whatever order the services start in, JetStream ends up with the stores the contracts'
// table declares (issue 14, item 2). Each service's store opener (services/<svc>/dist/
// stores.js: STORE_KEYS and openStores, the code its main.ts runs) is run against a real
// nats-server in all 24 orders, and all at once (10 times), each on an empty JetStream; then every
// stream's settings are read back and compared across runs and with the table.
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { SERVICES, storage, STORES, type ServiceName, type StoreDecl, type StoreKey } from '@lookout/contracts';
import { createLogger, ensureStore, StorageMismatchError, streamNameOf, type StorageOptions } from '@lookout/service-kit';
import { ROOT, startNatsServer, stopAllProcesses, type NatsServer } from '@lookout/testkit';

interface StoresModule {
  STORE_KEYS: readonly StoreKey[];
  openStores(nc: NatsConnection, opts: StorageOptions): Promise<unknown>;
}

const NS_PER_MS = 1_000_000;
const log = createLogger('storage-order-test', 'silent', 'test');

/** Each owner's tuned values differ from the table's defaults, so a non-owner's defaults would show. */
const TUNED: Record<ServiceName, StorageOptions['tuned']> = {
  gateway: undefined,
  detector: undefined,
  sfu: { sfuInstances: { ttlMs: 9000 } },
  reid: { streamState: { ttlMs: 120_000 }, faceRefs: { ttlMs: 3_600_000 }, events: { maxAgeMs: 86_400_000 } },
};

const optionsOf = (service: ServiceName): StorageOptions => ({ service, replicas: 1, log, ...(TUNED[service] ? { tuned: TUNED[service] } : {}) });

/** The settings compared; the first seven come from the table, the rest must simply agree. */
const FIELDS = ['max_msgs_per_subject', 'max_age', 'max_bytes', 'max_msg_size', 'num_replicas', 'subjects', 'duplicate_window', 'storage', 'retention', 'discard', 'max_msgs', 'allow_rollup_hdrs', 'deny_delete', 'allow_direct'] as const;
type Settings = Partial<Record<(typeof FIELDS)[number], unknown>>;

const pick = (c: StreamConfig): Settings => Object.fromEntries(FIELDS.map((f) => [f, f === 'subjects' ? [...(c.subjects ?? [])].sort() : (c as unknown as Record<string, unknown>)[f]]));

/** What the table (with the owner's tuning) says of a store's stream. */
function fromTable(key: StoreKey): Settings {
  const decl: StoreDecl = storage[key];
  const tuned = TUNED[decl.owner]?.[key];
  if (decl.kind === 'kv') {
    return { max_msgs_per_subject: decl.history, max_age: (tuned?.ttlMs ?? decl.ttlMs) * NS_PER_MS, max_bytes: decl.maxBytes, max_msg_size: decl.maxValueBytes, num_replicas: 1, subjects: [`$KV.${decl.name}.>`] };
  }
  return { max_age: (tuned?.maxAgeMs ?? decl.maxAgeMs) * NS_PER_MS, max_bytes: decl.maxBytes, duplicate_window: decl.duplicateWindowMs * NS_PER_MS, num_replicas: 1, subjects: [...decl.subjects].sort() };
}

const KEYS = Object.keys(storage) as StoreKey[];
const keyOfStream = new Map(KEYS.map((k) => [streamNameOf(storage[k]), k]));

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

describe('stores: the same settings whatever order the services start in', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const mods = {} as Record<ServiceName, StoresModule>;

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    for (const svc of SERVICES) mods[svc] = (await import(path.join(ROOT, `services/${svc}/dist/stores.js`))) as StoresModule;
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
    await stopAllProcesses();
  });

  /** Store key → settings of every stream there is now. */
  async function snapshot(): Promise<Map<StoreKey, Settings>> {
    const out = new Map<StoreKey, Settings>();
    for (const info of await jsm.streams.list().next()) {
      const key = keyOfStream.get(info.config.name);
      if (!key) throw new Error(`stream ${info.config.name} is not in the store table`);
      out.set(key, pick((await jsm.streams.info(info.config.name)).config));
    }
    return out;
  }

  async function emptyJetStream(): Promise<void> {
    for (const info of await jsm.streams.list().next()) await jsm.streams.delete(info.config.name);
    expect(await jsm.streams.list().next()).toEqual([]);
  }

  it('each service\'s STORE_KEYS are exactly the stores the table says it owns or uses', () => {
    for (const svc of SERVICES) {
      const uses = KEYS.filter((k) => storage[k].owner === svc || (storage[k].users as readonly ServiceName[]).includes(svc));
      expect({ svc, keys: [...mods[svc].STORE_KEYS].sort() }).toEqual({ svc, keys: uses.sort() });
    }
    // So every store is opened by its owner.
    for (const decl of STORES) expect({ store: decl.name, ownerOpens: mods[decl.owner].STORE_KEYS.some((k) => storage[k].name === decl.name) }).toEqual({ store: decl.name, ownerOpens: true });
  });

  it('all 24 orders, and all four at once (10 times), leave the same settings, the table\'s', async () => {
    const want = new Map(KEYS.map((k) => [k, fromTable(k)]));
    const runs: Array<{ order: string; settings: Map<StoreKey, Settings> }> = [];
    const orders = permutations(SERVICES);
    expect(orders).toHaveLength(24);
    for (const order of orders) {
      await emptyJetStream();
      const opened = new Set<StoreKey>();
      for (const svc of order) {
        await mods[svc].openStores(nc, optionsOf(svc));
        for (const k of mods[svc].STORE_KEYS) opened.add(k);
        // An opener makes the stores it lists and nothing else.
        expect({ order, after: svc, stores: [...(await snapshot()).keys()].sort() }).toEqual({ order, after: svc, stores: [...opened].sort() });
      }
      runs.push({ order: order.join(' → '), settings: await snapshot() });
    }
    // All at once, several times: a race (one service's create meeting another's) shows only now and then.
    for (let i = 1; i <= 10; i++) {
      await emptyJetStream();
      await Promise.all(SERVICES.map((svc) => mods[svc].openStores(nc, optionsOf(svc))));
      runs.push({ order: `all at once (#${i})`, settings: await snapshot() });
    }

    const [first] = runs;
    for (const run of runs) {
      expect([...run.settings.keys()].sort()).toEqual([...KEYS].sort());
      for (const key of KEYS) {
        // Every run agrees with the first on every compared field, and with the table on its fields.
        expect({ order: run.order, key, settings: run.settings.get(key) }).toEqual({ order: run.order, key, settings: first!.settings.get(key) });
        expect({ order: run.order, key, settings: run.settings.get(key) }).toEqual({ order: run.order, key, settings: expect.objectContaining(want.get(key)!) });
      }
    }
  }, 90_000);

  it('an owner\'s tuning survives a non-owner creating the same store at the same moment', async () => {
    const lost: string[] = [];
    for (let i = 0; i < 40; i++) {
      await emptyJetStream();
      // The non-owner first: its create is under way when the owner finds nothing and creates.
      await Promise.all([ensureStore(nc, 'sfuInstances', optionsOf('gateway')), ensureStore(nc, 'sfuInstances', optionsOf('sfu'))]);
      const { max_age: maxAge } = (await jsm.streams.info(streamNameOf(storage.sfuInstances))).config;
      if (maxAge !== 9000 * NS_PER_MS) lost.push(`#${i}: ${maxAge / NS_PER_MS} ms`);
    }
    expect(lost).toEqual([]);
  }, 30_000);

  it('a store made otherwise beforehand: other services refuse to start, naming the owner; the owner brings it back to the table', async () => {
    await emptyJetStream();
    await new Kvm(nc).create(storage.roomConfig.name, { history: 5 });
    const stream = streamNameOf(storage.roomConfig);
    for (const svc of ['detector', 'reid'] as const) {
      const err = await mods[svc].openStores(nc, optionsOf(svc)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageMismatchError);
      expect((err as Error).message).toMatch(/^lookout_room_config: max_msgs_per_subject is 5 where the table says 1; it is gateway's to change/);
    }
    expect((await jsm.streams.info(stream)).config.max_msgs_per_subject).toBe(5);
    await mods.gateway.openStores(nc, optionsOf('gateway'));
    expect(pick((await jsm.streams.info(stream)).config)).toEqual(expect.objectContaining(fromTable('roomConfig')));
    // Now the others start.
    await mods.detector.openStores(nc, optionsOf('detector'));
    await mods.reid.openStores(nc, optionsOf('reid'));
  }, 30_000);
});
