import { Type, type Static } from '@sinclair/typebox';
import { Id, assertId } from './ids.js';
import { RuleThresholds } from './rules.js';
import { validator } from './validation.js';

/**
 * A proctoring/interview session bound to one stream, stored in KV bucket
 * `lookout_stream_sessions` under `<room>.<stream>` by the gateway and read by reid: it
 * names the expected person and per-session rule thresholds, and tags every event.
 */
export const StreamSession = Type.Object(
  {
    sessionId: Id,
    expectedSubjectId: Type.Optional(Id),
    /** The expected subject was deleted from the gallery (its id erased from the claim). */
    expectedSubjectErased: Type.Optional(Type.Literal(true)),
    rules: Type.Optional(RuleThresholds),
    startedMs: Type.Integer({ minimum: 0 }),
  },
  { $id: 'StreamSession', additionalProperties: false },
);
export type StreamSession = Static<typeof StreamSession>;
export const streamSession = validator('stream session', StreamSession);

/** KV key of a stream: `<room>.<stream>` (both are ids, so the dot is unambiguous). */
export function streamKey(room: string, stream: string): string {
  assertId('room', room);
  assertId('stream', stream);
  return `${room}.${stream}`;
}

/**
 * `reid.end_stream` (rpc.ts): close the stream's open alert episodes and flush its
 * metrics now (a session ended), instead of waiting for the SFU's stream-closed event.
 */
export const EndStreamRequest = Type.Object({ room: Id, stream: Id, reason: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false });
export type EndStreamRequest = Static<typeof EndStreamRequest>;
export const EndStreamResult = Type.Object({ closedEpisodes: Type.Integer({ minimum: 0 }) });
export type EndStreamResult = Static<typeof EndStreamResult>;
