import { Type, type Static } from '@sinclair/typebox';

/**
 * Every error that crosses a boundary (a NATS reply, a REST response, a WebSocket `error`
 * message) carries one of these codes. A code is stable: clients branch on it, so a code
 * is added here, never renamed. What a code becomes at an edge is decided there and only
 * there: the gateway's `http/` maps codes to statuses, its `ws/` to close codes.
 */
export const ERROR_CODES = {
  // The request itself
  invalid_request: 'A field of the request is invalid; `field` names it',
  invalid_json: 'The body is not valid JSON',
  invalid_message: 'A WebSocket message is not valid; `field` names the bad field',
  invalid_parameters: 'mediasoup refused the parameters (its message says why)',
  invalid_room: 'The room named in a request header is not a valid id',
  invalid_url: 'The ingest URL is not rtsp(s):// or a file under INGEST_FILE_ROOT',
  bad_request: 'The HTTP request is malformed (e.g. broken multipart)',
  body_too_large: 'The body is larger than the limit',
  unsupported_media_type: 'The body has the wrong content type',
  unsupported_encoding: 'The body has an unsupported content or charset encoding',
  unexpected_binary: 'A binary WebSocket message that no `frame` message announced',
  // Who is asking
  unauthorized: 'No credential, or an unknown API key',
  invalid_token: 'The room token is malformed or its signature is wrong',
  token_expired: 'The room token has expired',
  forbidden: 'The credential may not do this',
  cors_forbidden: 'A browser preflight from an origin not in CORS_ORIGINS',
  rate_limited: 'Too many requests from this client',
  too_many_requests: 'Too many requests in flight on this WebSocket',
  // What is asked about
  not_found: 'No such thing (room, session, subject, webhook, job, route)',
  exists: 'It already exists',
  conflict: 'The change conflicts with the current state',
  session_running: 'The session is still running (the final report needs it ended)',
  unknown_subject: 'The gallery has no such subject',
  face_enrolled: 'A face of the request is already enrolled under another subject; `details.subjectId` names it',
  unknown_room: 'The SFU has no such room',
  unknown_transport: 'The room has no such WebRTC transport',
  unknown_producer: 'The room has no such producer',
  unknown_consumer: 'The room has no such consumer',
  unknown_stream: 'The room has no such stream',
  stream_exists: 'The room already has a stream of that name',
  room_elsewhere: 'Another SFU instance serves the room',
  cannot_consume: 'The consumer cannot receive that producer',
  too_many_transports: 'Over a cap on WebRTC transports (per socket, peer or room: the message names the setting; `details` has scope, limit and setting)',
  too_many_producers: 'Over a cap on producers (per socket, peer or room: the message names the setting; `details` has scope, limit and setting)',
  too_many_consumers: 'Over a cap on consumers (per peer or room: the message names the setting; `details` has scope, limit and setting)',
  stream_not_owned: 'The stream is an ingest or another peer\'s: a socket publishes frames only to streams it owns; `field` is `stream`',
  file_ingest_disabled: 'File ingest is off (INGEST_FILE_ROOT is empty)',
  unreadable_file: 'The ingest file cannot be read',
  ingest_failed: 'The ingest could not start',
  destination_not_allowed: 'A webhook URL is not http(s) or points where webhooks may not go (private ranges unless WEBHOOK_ALLOW_HOSTS)',
  destination_unresolved: 'A webhook URL\'s host does not resolve',
  // Images and uploads
  not_jpeg: 'The image is not a JPEG',
  too_large: 'The image is larger than the frame limits',
  bad_dimensions: 'The image has impossible dimensions',
  corrupt: 'The image cannot be decoded',
  bad_image: 'The image cannot be read',
  no_usable_image: 'No image has exactly one usable face (`details.images` says why for each)',
  invalid_frame: 'A frame announced on the WebSocket is not valid',
  missing_frame_data: 'A `frame` message was not followed by its JPEG',
  frame_not_published: 'The frame could not be published',
  not_zip: 'The upload is not a ZIP archive',
  corrupt_zip: 'The ZIP archive is corrupt',
  too_many_entries: 'The ZIP archive has too many entries',
  zip_too_large: 'The ZIP archive inflates to more than the limit',
  duplicate_entry: 'The ZIP archive holds two entries of the same name (the message names it)',
  // Recording analysis (jobs.ts)
  not_video: 'The upload or the URL\'s body is not a video that can be decoded',
  too_long: 'The video is longer than the duration limit (JOB_MAX_DURATION_S)',
  fetch_failed: 'The video URL could not be fetched (the message says why)',
  job_ended: 'The job has ended: it can no longer be cancelled',
  media_lost: 'The gateway holding the job\'s video is gone and no other holds it',
  // The system
  unavailable: 'A service needed for the request did not answer (see the message)',
  no_sfu: 'No SFU instance is available',
  sfu_unavailable: 'The SFU serving the room did not answer',
  no_worker: 'The SFU has no mediasoup worker to place the room on',
  events_unavailable: 'The events stream cannot be read',
  busy: 'Too much work is queued; try again later',
  internal: 'An unexpected failure (logged by the service)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);

/** An error on the wire: a NATS error reply, the REST `error` object, a WebSocket `error`. */
export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Stable machine-readable code (see docs/api.md: Errors)' }),
    message: Type.String(),
    field: Type.Optional(Type.String({ description: 'The offending field (JSON pointer without the leading slash)' })),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'More about the error, per code (e.g. `images` for no_usable_image)' })),
  },
  { $id: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/**
 * The one error type of Lookout. Thrown anywhere (a responder, a client, a route), sent as
 * an `ErrorBody`, and thrown again on the other side with the same code, field and details.
 */
export class LookoutError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'LookoutError';
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, ...(this.field !== undefined ? { field: this.field } : {}), ...(this.details ? { details: this.details } : {}) };
  }

  /** An error body received from elsewhere; a code this version does not know is `internal`. */
  static fromBody(body: ErrorBody): LookoutError {
    const code = isErrorCode(body.code) ? body.code : 'internal';
    return new LookoutError(code, body.message, body.field, body.details);
  }
}

export const notFound = (message: string, field?: string) => new LookoutError('not_found', message, field);
export const invalidRequest = (message: string, field?: string) => new LookoutError('invalid_request', message, field);
