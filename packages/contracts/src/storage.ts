import type { ServiceName } from './services.js';

/**
 * Every JetStream KV bucket and stream Lookout keeps, declared once. The owner creates a
 * missing one and updates one that differs from this table; any other service may create
 * a missing one (from this same table, so nothing can disagree) but never changes one: it
 * refuses to start, naming the difference and the owner, when what it finds differs. So
 * the settings are the same whatever order the services start in.
 *
 * `tunedBy` names the owner's setting (env var) that may change a value from the one
 * here; other services do not check a tuned value. Replicas are a deployment setting
 * (JETSTREAM_REPLICAS, every service): the owner raises a store to it, never lowers one
 * (that is an operator's decision, as is the prod overlay's jetstream-replicas job).
 */
export interface StoreBase {
  /** The bucket's name (KV) or the stream's (stream). */
  readonly name: string;
  readonly owner: ServiceName;
  /** Services that read or write it besides the owner. */
  readonly users: readonly ServiceName[];
  readonly description: string;
  /** Byte limit of the whole store; -1 = none. */
  readonly maxBytes: number;
}

export interface KvDecl extends StoreBase {
  readonly kind: 'kv';
  /** Values kept per key. */
  readonly history: number;
  /** Entries expire this long after their last write; 0 = never. */
  readonly ttlMs: number;
  /** Largest value, bytes; -1 = up to the NATS max payload. */
  readonly maxValueBytes: number;
  readonly tunedBy?: { readonly ttlMs?: string };
}

export interface StreamDecl extends StoreBase {
  readonly kind: 'stream';
  readonly subjects: readonly string[];
  /** Messages are kept this long; 0 = forever. */
  readonly maxAgeMs: number;
  /** A message id seen within this window is stored once. */
  readonly duplicateWindowMs: number;
  readonly tunedBy?: { readonly maxAgeMs?: string };
}

export type StoreDecl = KvDecl | StreamDecl;

const DAY_MS = 86_400_000;

const kv = (d: Omit<KvDecl, 'kind' | 'maxBytes' | 'maxValueBytes'> & Partial<Pick<KvDecl, 'maxBytes' | 'maxValueBytes'>>): KvDecl => ({ kind: 'kv', maxBytes: -1, maxValueBytes: -1, ...d });

export const storage = {
  roomConfig: kv({ name: 'lookout_room_config', owner: 'gateway', users: ['detector', 'reid', 'sfu'], history: 1, ttlMs: 0, description: 'room id → RoomAnalysisConfig; written by the gateway, followed live by detectors, reid and the SFU (tap width)' }),
  sfuInstances: kv({
    name: 'lookout_sfu_instances',
    owner: 'sfu',
    users: ['gateway'],
    history: 1,
    ttlMs: 15_000,
    tunedBy: { ttlMs: 'REGISTRY_TTL_MS' },
    description: 'SFU instance id → SfuInstanceInfo; a heartbeat that expires when the instance dies',
  }),
  roomPlacement: kv({ name: 'lookout_room_placement', owner: 'sfu', users: ['gateway'], history: 1, ttlMs: 0, description: 'room id → RoomPlacement: which SFU instance owns the room' }),
  sfuRooms: kv({
    name: 'lookout_sfu_rooms',
    owner: 'sfu',
    users: ['gateway'],
    history: 1,
    ttlMs: 0,
    description: 'room id → SfuRoomRecord (sample rate, ingests): what an SFU needs to build the room again after a lost worker or on another instance; deleted when the room is closed',
  }),
  // History is kept so that no revision is ever dropped by the limit (which leaves its bytes
  // in the block file): reid erases each replaced revision itself (gallery-store.ts).
  gallery: kv({
    name: 'lookout_gallery',
    owner: 'reid',
    users: [],
    history: 64,
    ttlMs: 0,
    description: 'subject id → gallery record (name, ref, embeddings, negatives); `erased.<ref>` → tombstone of a deleted subject. The source of truth, followed by every reid replica; replaced revisions are erased, not just deleted',
  }),
  streamState: kv({
    name: 'lookout_stream_state',
    owner: 'reid',
    users: [],
    history: 1,
    ttlMs: 3_600_000,
    tunedBy: { ttlMs: 'STREAM_STATE_TTL_MS' },
    description: '`<room>.<stream>` → reid\'s per-stream state (tracks, principal, rule counters), CAS-updated; people in it are named by gallery ref only',
  }),
  // History only so that no revision is dropped by the limit: the gateway erases each revision it replaces (they may name a gallery subject).
  streamSessions: kv({ name: 'lookout_stream_sessions', owner: 'gateway', users: ['reid'], history: 64, ttlMs: 0, description: '`<room>.<stream>` → StreamSession: the session running on a stream' }),
  recognitionCooldown: kv({ name: 'lookout_recognition_cooldown', owner: 'reid', users: [], history: 1, ttlMs: DAY_MS, description: '`<room>.<subject ref>` → last recognition event time: the cooldown shared by all replicas' }),
  faceRefs: kv({
    name: 'lookout_face_refs',
    owner: 'reid',
    users: [],
    history: 1,
    ttlMs: 7 * DAY_MS,
    tunedBy: { ttlMs: 'FACE_REF_TTL_MS' },
    description: 'face ref → embedding of a face named in an event, for "not this subject" feedback',
  }),
  // History only so that no revision is dropped by the limit: the gateway erases each revision it replaces (they may name a gallery subject).
  sessions: kv({ name: 'lookout_sessions', owner: 'gateway', users: [], history: 64, ttlMs: 0, description: 'session id → SessionInfo' }),
  webhooks: kv({ name: 'lookout_webhooks', owner: 'gateway', users: [], history: 1, ttlMs: 0, description: 'webhook id → registration' }),
  webhookLog: kv({ name: 'lookout_webhook_log', owner: 'gateway', users: [], history: 1, ttlMs: 30 * DAY_MS, description: 'webhook id → its latest deliveries' }),
  rateLimits: kv({
    name: 'lookout_rate_limits',
    owner: 'gateway',
    users: [],
    history: 1,
    // A token bucket is full again a minute after its last take; two minutes leaves slack for clock skew.
    ttlMs: 120_000,
    maxBytes: 64 * 1024 * 1024,
    maxValueBytes: 256,
    description: '`req.<hash of credential>` / `auth.<hash of client address>` → token bucket { tokens, at }: request and refused-credential budgets shared by every gateway, CAS-updated',
  }),
  // History only so that no revision is dropped by the limit: the gateway erases each revision it replaces (they may name a gallery subject).
  enrollJobs: kv({ name: 'lookout_enroll_jobs', owner: 'gateway', users: [], history: 64, ttlMs: 7 * DAY_MS, description: 'job id → EnrollJob: batch enrollment progress and results' }),
  jobs: kv({
    name: 'lookout_jobs',
    owner: 'gateway',
    users: [],
    history: 1,
    ttlMs: 0,
    description: 'job id → JobRecord: a recording job, its progress (frames done, in order) and the gateway running it (a lease); deleted with the job',
  }),
  events: {
    kind: 'stream',
    name: 'LOOKOUT_EVENTS',
    owner: 'reid',
    users: ['gateway'],
    subjects: ['alerts.>', 'recognitions.>', 'metrics.>'],
    maxAgeMs: 30 * DAY_MS,
    duplicateWindowMs: 5 * 60_000,
    maxBytes: -1,
    tunedBy: { maxAgeMs: 'EVENTS_MAX_AGE_MS' },
    description: 'Alerts, recognitions and per-second metrics (each with a Nats-Msg-Id); reports and webhooks are rebuilt from it',
  },
} as const satisfies Record<string, StoreDecl>;

export type StoreKey = keyof typeof storage;
export type KvKey = { [K in StoreKey]: (typeof storage)[K] extends KvDecl ? K : never }[StoreKey];

/** Every store, for docs, tests and the JetStream tooling. */
export const STORES: readonly StoreDecl[] = Object.values(storage);

/** KV bucket names by purpose (the table's names). */
export const kvBuckets = Object.fromEntries(Object.entries(storage).filter(([, d]) => d.kind === 'kv').map(([k, d]) => [k, d.name])) as { [K in KvKey]: (typeof storage)[K]['name'] };

/** The events stream's name and subjects (the table's). */
export const EVENT_STREAM = { name: storage.events.name, subjects: storage.events.subjects } as const;
