import type { ErrorCode } from '@lookout/contracts';

/**
 * The HTTP status of every error code, in one total table: a code added to the catalogue
 * (contracts errors.ts) does not compile until it has a status here. Codes that only the
 * WebSocket sends still get one, so the table stays total.
 */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  // The request itself
  invalid_request: 400,
  invalid_json: 400,
  invalid_message: 400,
  invalid_parameters: 400,
  invalid_room: 400,
  invalid_url: 400,
  bad_request: 400,
  body_too_large: 413,
  unsupported_media_type: 415,
  unsupported_encoding: 415,
  unexpected_binary: 400,
  // Who is asking
  unauthorized: 401,
  invalid_token: 401,
  token_expired: 401,
  forbidden: 403,
  cors_forbidden: 403,
  rate_limited: 429,
  too_many_requests: 429,
  // What is asked about
  not_found: 404,
  exists: 409,
  conflict: 409,
  session_running: 409,
  // Recording jobs
  not_video: 422,
  too_long: 422,
  fetch_failed: 422,
  job_ended: 409,
  media_lost: 410,
  unknown_subject: 422,
  face_enrolled: 409,
  unknown_room: 404,
  unknown_transport: 404,
  unknown_producer: 404,
  unknown_consumer: 404,
  unknown_stream: 404,
  stream_exists: 409,
  room_elsewhere: 409,
  cannot_consume: 400,
  // Quotas of media objects: close some first (not a rate, but "too many" all the same).
  too_many_transports: 429,
  too_many_producers: 429,
  too_many_consumers: 429,
  stream_not_owned: 403,
  file_ingest_disabled: 400,
  unreadable_file: 400,
  ingest_failed: 502,
  destination_not_allowed: 422,
  destination_unresolved: 422,
  // Images and uploads: unusable input
  not_jpeg: 422,
  too_large: 422,
  bad_dimensions: 422,
  corrupt: 422,
  bad_image: 422,
  no_usable_image: 422,
  invalid_frame: 400,
  missing_frame_data: 400,
  frame_not_published: 400,
  not_zip: 400,
  corrupt_zip: 400,
  too_many_entries: 400,
  zip_too_large: 413,
  duplicate_entry: 400,
  // The system
  unavailable: 503,
  no_sfu: 503,
  sfu_unavailable: 503,
  no_worker: 503,
  events_unavailable: 503,
  busy: 503,
  // As a LookoutError, `internal` reaches the gateway only from a backend (its reply, or a
  // reply that broke the contract): a bad gateway. The gateway's own unexpected failures are
  // plain errors, answered 500 by the error handler.
  internal: 502,
};
