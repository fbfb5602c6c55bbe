import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ErrorBody, type ErrorCode } from './errors.js';
import { AnalyzeImageResult, FacesMessage } from './faces.js';
import { GALLERY_OPS, GalleryReplies, GalleryRequests, type GalleryOp } from './gallery.js';
import { Id } from './ids.js';
import { EndStreamRequest, EndStreamResult } from './sessions.js';
import { AnalyzeFrameRequest, ReidFrameResult } from './jobs.js';
import { sfuReplies, sfuRequests, type SfuOp } from './sfu.js';
import { queueGroups, subjects } from './subjects.js';
import { validator, type Validator } from './validation.js';
import type { ServiceName } from './services.js';

/**
 * Every request/reply operation between Lookout's services, declared once: who serves
 * it, on which subject, what it takes and answers (validated on both sides by
 * service-kit's `serve` and `call`), how long a caller waits by default, and which error
 * codes it may answer besides the ones every operation may (RPC_COMMON_ERRORS).
 *
 * On the wire a request is its JSON body (or, for an operation with a `payload`, the raw
 * bytes with the JSON request in the RPC_REQUEST_HEADER header); a reply is RpcReply.
 */
export interface RpcOp<Q extends TSchema = TSchema, R extends TSchema = TSchema> {
  /** `<service>.<op>`: log field and metric label. */
  readonly name: string;
  readonly server: ServiceName;
  /** Who calls it (docs, the architecture diagram). */
  readonly callers: readonly ServiceName[];
  /** `service`: any replica answers (queue group); `instance`: one named instance does. */
  readonly addressing: 'service' | 'instance';
  readonly subject: (instance?: string) => string;
  readonly queue?: string;
  readonly request: Validator<Q>;
  readonly reply: Validator<R>;
  /** Raw bytes carried beside the JSON request (an image), and what they must be. */
  readonly payload?: 'jpeg';
  readonly timeoutMs: number;
  readonly errors: readonly ErrorCode[];
  readonly description: string;
}

export type RpcRequest<O extends RpcOp> = O extends RpcOp<infer Q, TSchema> ? Static<Q> : never;
export type RpcResult<O extends RpcOp> = O extends RpcOp<TSchema, infer R> ? Static<R> : never;

/** Any operation may answer these (bad request, nobody answered in time, a bug). */
export const RPC_COMMON_ERRORS = ['invalid_request', 'unavailable', 'internal'] as const satisfies readonly ErrorCode[];

/** The header that carries the JSON request of an operation whose body is a payload. */
export const RPC_REQUEST_HEADER = 'Lookout-Request';

export const RpcReply = Type.Union([Type.Object({ ok: Type.Literal(true), data: Type.Unknown() }), Type.Object({ ok: Type.Literal(false), error: ErrorBody })], { $id: 'RpcReply' });
export type RpcReply = Static<typeof RpcReply>;
export const rpcReply = validator('rpc reply', RpcReply);

interface OpSpec<Q extends TSchema, R extends TSchema> extends Omit<RpcOp<Q, R>, 'request' | 'reply' | 'name' | 'addressing' | 'subject'> {
  request: Q;
  reply: R;
}

function serviceOp<Q extends TSchema, R extends TSchema>(name: string, subject: string, spec: OpSpec<Q, R>): RpcOp<Q, R> {
  return { ...spec, name, addressing: 'service', subject: () => subject, request: validator(`${name} request`, spec.request), reply: validator(`${name} reply`, spec.reply) };
}

const SECOND = 1000;

const GALLERY_TIMEOUTS: Record<GalleryOp, number> = {
  // These run the detector on every image: on a loaded 2-core machine, seconds each.
  enroll: 60 * SECOND,
  add_images: 60 * SECOND,
  negative: 60 * SECOND,
  identify: 30 * SECOND,
  rename: 15 * SECOND,
  // Reads the events stream's alerts and recognitions to erase those naming the subject.
  delete: 60 * SECOND,
  list: 15 * SECOND,
  get: 15 * SECOND,
};

const GALLERY_ERRORS: Record<GalleryOp, readonly ErrorCode[]> = {
  enroll: ['exists', 'no_usable_image', 'face_enrolled'],
  add_images: ['not_found', 'no_usable_image', 'face_enrolled', 'conflict'],
  rename: ['not_found', 'conflict'],
  delete: ['not_found'],
  list: [],
  get: ['not_found'],
  negative: ['not_found', 'no_usable_image', 'conflict'],
  identify: ['bad_image', 'not_jpeg', 'too_large', 'bad_dimensions', 'corrupt'],
};

const GALLERY_DESCRIPTIONS: Record<GalleryOp, string> = {
  enroll: 'Create a subject from 1–20 images; fails unless at least one has exactly one usable face, and when a face is already another subject\'s',
  add_images: 'Add 1–20 images to a subject; fails when a face is already another subject\'s',
  rename: 'Rename a subject; metadata, when given, replaces the old',
  delete: 'Erase a subject: every revision of its record (name, embeddings, crops), the alerts and recognitions naming it, their face embeddings and its recognition cooldowns (docs/gallery.md)',
  list: 'Subjects, sorted by name',
  get: 'One subject',
  negative: 'Mark a face (an event\'s faceRef, or an image) as "not this subject"',
  identify: 'Analyse one image and match every face against the gallery',
};

const gallery = Object.fromEntries(
  GALLERY_OPS.map((op) => [
    op,
    serviceOp(`gallery.${op}`, subjects.gallery(op), {
      server: 'reid',
      callers: ['gateway'],
      queue: queueGroups.reid,
      request: GalleryRequests[op],
      reply: GalleryReplies[op],
      timeoutMs: GALLERY_TIMEOUTS[op],
      errors: GALLERY_ERRORS[op],
      description: GALLERY_DESCRIPTIONS[op],
    }),
  ]),
) as { [O in GalleryOp]: RpcOp<(typeof GalleryRequests)[O], (typeof GalleryReplies)[O]> };

const SFU_ERRORS: Record<SfuOp, readonly ErrorCode[]> = {
  createRoom: ['room_elsewhere', 'no_worker'],
  // An unknown room (no room and no record on the instance) is refused, not closed twice (found by test/fuzz).
  closeRoom: ['unknown_room'],
  getRouterRtpCapabilities: ['unknown_room'],
  createWebRtcTransport: ['unknown_room', 'too_many_transports'],
  connectTransport: ['unknown_room', 'unknown_transport', 'invalid_parameters'],
  restartIce: ['unknown_room', 'unknown_transport'],
  closeTransport: ['unknown_room', 'unknown_transport'],
  produce: ['unknown_room', 'unknown_transport', 'stream_exists', 'invalid_parameters', 'too_many_producers'],
  closeProducer: ['unknown_room', 'unknown_producer'],
  consume: ['unknown_room', 'unknown_transport', 'unknown_producer', 'cannot_consume', 'invalid_parameters', 'too_many_consumers'],
  resumeConsumer: ['unknown_room', 'unknown_consumer'],
  setSampleRate: ['unknown_room'],
  ingest: ['unknown_room', 'stream_exists', 'invalid_url', 'unreadable_file', 'file_ingest_disabled', 'ingest_failed'],
  stopIngest: ['unknown_room', 'unknown_stream'],
  listStreams: ['unknown_room'],
  getRoom: ['unknown_room'],
};

/** A busy SFU answers in milliseconds; seconds mean a stuck worker. */
const SFU_TIMEOUT_MS = 20 * SECOND;
/**
 * Except an ingest, which answers once its source's first packets flow: a camera's probe
 * (up to 25 s on a busy machine, sfu ingest/source-probe.ts) and then up to 15 s for them.
 */
const SFU_INGEST_TIMEOUT_MS = 45 * SECOND;

const sfu = Object.fromEntries(
  (Object.keys(sfuRequests) as SfuOp[]).map((op) => {
    const name = `sfu.${op}`;
    const o: RpcOp = {
      name,
      server: 'sfu',
      callers: ['gateway'],
      addressing: 'instance',
      subject: (instance?: string) => subjects.sfu(instance ?? '', op),
      request: validator(`${name} request`, sfuRequests[op] as TSchema),
      reply: validator(`${name} reply`, sfuReplies[op] as TSchema),
      timeoutMs: op === 'ingest' ? SFU_INGEST_TIMEOUT_MS : SFU_TIMEOUT_MS,
      errors: SFU_ERRORS[op],
      description: `Signaling: ${op} (docs/sfu.md)`,
    };
    return [op, o];
  }),
) as { [O in SfuOp]: RpcOp<(typeof sfuRequests)[O], (typeof sfuReplies)[O]> };

export const rpc = {
  gallery,
  reid: {
    endStream: serviceOp('reid.end_stream', subjects.reidEndStream(), {
      server: 'reid',
      callers: ['gateway'],
      queue: queueGroups.reid,
      request: EndStreamRequest,
      reply: EndStreamResult,
      // An absent reid answers at once (no responders); this bounds a busy one.
      timeoutMs: 15 * SECOND,
      errors: [],
      description: 'Close the stream\'s open episodes and flush its last second of metrics (a session ended)',
    }),
    analyzeFrame: serviceOp('reid.analyze_frame', subjects.reidAnalyzeFrame(), {
      server: 'reid',
      callers: ['gateway'],
      queue: queueGroups.reid,
      request: FacesMessage,
      reply: ReidFrameResult,
      // Answered once the stream state is written and the frame's events are stored; a
      // caller that gets no answer asks again (a frame already counted comes back `late`).
      timeoutMs: 10 * SECOND,
      errors: ['busy'],
      description: 'Advance a recording job\'s stream with one frame\'s faces, as a live frame (never shed); answered once its state and events are stored',
    }),
  },
  detector: {
    analyze: serviceOp('detector.analyze', subjects.detectorAnalyze(), {
      server: 'detector',
      callers: ['reid'],
      queue: queueGroups.detector,
      request: Type.Object({ room: Type.Optional(Id) }, { additionalProperties: false, description: 'room: apply that room\'s analysis config' }),
      reply: AnalyzeImageResult,
      payload: 'jpeg',
      timeoutMs: 15 * SECOND,
      errors: ['not_jpeg', 'too_large', 'bad_dimensions', 'corrupt'],
      description: 'Analyse one JPEG with every analyzer (a single image has no cadence)',
    }),
    analyzeFrame: serviceOp('detector.analyze_frame', subjects.detectorAnalyzeFrame(), {
      server: 'detector',
      callers: ['gateway'],
      queue: queueGroups.detector,
      request: AnalyzeFrameRequest,
      reply: FacesMessage,
      payload: 'jpeg',
      // Live frames go first, so a job's frame may wait behind them; a caller that gets no
      // answer (a replica died, or was too busy) asks again.
      timeoutMs: 20 * SECOND,
      errors: ['not_jpeg', 'too_large', 'bad_dimensions', 'corrupt', 'busy'],
      description: 'Analyse one sampled frame of a recording job with the room\'s analyzers and cadence (as a live frame, never shed; live frames go first)',
    }),
  },
  sfu,
} as const;

/** Every operation, for docs and tests. */
export const RPC_OPS: readonly RpcOp[] = [...Object.values(rpc.gallery), ...Object.values(rpc.reid), ...Object.values(rpc.detector), ...Object.values(rpc.sfu)];
