import { assertId } from './ids.js';
import type { GalleryOp } from './gallery.js';

/**
 * Every NATS subject Lookout uses is built here. Services never concatenate subject
 * strings themselves: each builder validates its ids so no caller can inject a
 * wildcard or an extra token.
 */

const PREFIX = {
  frames: 'frames',
  faces: 'faces',
  analysis: 'analysis',
  alerts: 'alerts',
  recognitions: 'recognitions',
  metrics: 'metrics',
  previews: 'previews',
} as const;

export type StreamSubjectKind = keyof typeof PREFIX;

function streamSubject(kind: StreamSubjectKind, room: string, stream: string): string {
  assertId('room', room);
  assertId('stream', stream);
  return `${PREFIX[kind]}.${room}.${stream}`;
}

function roomWildcard(kind: StreamSubjectKind, room: string): string {
  assertId('room', room);
  return `${PREFIX[kind]}.${room}.*`;
}

export const subjects = {
  /** Sampled JPEG frames of one stream (core NATS; body = JPEG, metadata in headers). */
  frames: (room: string, stream: string) => streamSubject('frames', room, stream),
  /**
   * Downscaled frames of a stream fed by fallback upload, at most PREVIEW_LIMITS.maxFps
   * (core NATS; body = JPEG, frame headers), published by the gateway that received the
   * upload for the gateways whose viewers follow the `preview` feed.
   */
  previews: (room: string, stream: string) => streamSubject('previews', room, stream),
  /** Detector output for one frame of one stream. */
  faces: (room: string, stream: string) => streamSubject('faces', room, stream),
  /** Merged per-frame analysis (detector + reid) of one stream. */
  analysis: (room: string, stream: string) => streamSubject('analysis', room, stream),
  /** Alert episodes of one stream. */
  alerts: (room: string, stream: string) => streamSubject('alerts', room, stream),

  /** Recognition events (PASS/REJECT) of one stream; also stored in LOOKOUT_EVENTS. */
  recognitions: (room: string, stream: string) => streamSubject('recognitions', room, stream),
  /** Per-second metrics of one stream; also stored in LOOKOUT_EVENTS. */
  metrics: (room: string, stream: string) => streamSubject('metrics', room, stream),

  // Request/reply subjects: each is an operation of rpc.ts, which says who serves it and
  // who calls it; services reach them only through service-kit's serve/call.
  /** One gallery operation, served by reid (gateway calls it). */
  gallery: (op: GalleryOp) => `gallery.${op}`,
  /** Close a stream's open episodes and flush its metrics, served by reid (gateway calls it). */
  reidEndStream: () => 'reid.end_stream',

  /** All streams of a room, for one kind. */
  roomStreams: (kind: StreamSubjectKind, room: string) => roomWildcard(kind, room),
  /** Every stream of every room, for one kind (worker subscriptions). */
  all: (kind: StreamSubjectKind) => `${PREFIX[kind]}.>`,

  /** Analyse one image, served by detectors (reid calls it for enrollment and identify). */
  detectorAnalyze: () => 'detector.analyze',
  /** Analyse one sampled frame of a recording job, served by detectors (the gateway's job runner calls it). */
  detectorAnalyzeFrame: () => 'detector.analyze_frame',
  /** Advance a recording job's stream with one frame's faces, served by reid (the gateway's job runner calls it). */
  reidAnalyzeFrame: () => 'reid.analyze_frame',
  /** Progress of one recording job (core NATS, JobInfo), for the gateways whose sockets follow the job's room. */
  jobProgress: (room: string) => {
    assertId('room', room);
    return `jobs.${room}`;
  },

  /** Events about a room's media (worker died, stream state changes, room closed). */
  sfuEvents: (room: string) => {
    assertId('room', room);
    return `sfuevents.${room}`;
  },

  /** Events of every room (monitoring, gateways). */
  sfuEventsAll: () => 'sfuevents.*',

  /** One signaling operation of one SFU instance (gateway calls it). */
  sfu: (instance: string, op: string) => {
    assertId('instance', instance);
    assertId('op', op);
    return `sfu.${instance}.${op}`;
  },
} as const;

/** Queue group names: replicas of one worker kind share the work of a subscription. */
export const queueGroups = {
  detector: 'detector',
  reid: 'reid',
} as const;

export interface StreamAddress {
  kind: StreamSubjectKind;
  room: string;
  stream: string;
}

/** Parses `<kind>.<room>.<stream>`; returns undefined for anything else. */
export function parseStreamSubject(subject: string): StreamAddress | undefined {
  const parts = subject.split('.');
  if (parts.length !== 3) return undefined;
  const [kind, room, stream] = parts as [string, string, string];
  if (!(kind in PREFIX)) return undefined;
  try {
    assertId('room', room);
    assertId('stream', stream);
  } catch {
    return undefined;
  }
  return { kind: kind as StreamSubjectKind, room, stream };
}
