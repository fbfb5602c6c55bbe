// The public surface of @lookout/contracts: the one language Lookout's services, web app,
// tests and tools share. Named, not `export *`: a module's building blocks (the schemas a
// message is assembled from, the tables rpc.ts is built from) stay inside this package.

// Ids and NATS subjects (ids.ts, subjects.ts)
export { ID_PATTERN, Id, isId, assertId, InvalidIdError } from './ids.js';
export { subjects, queueGroups, parseStreamSubject } from './subjects.js';
export type { StreamSubjectKind, StreamAddress } from './subjects.js';

// Validating JSON on the wire (validation.ts)
export { ValidationError, validator, decodeJson, encodeJson } from './validation.js';
export type { Validator } from './validation.js';

// Errors: the one error type and its stable codes (errors.ts)
export { ERROR_CODES, isErrorCode, ErrorBody, LookoutError, notFound, invalidRequest } from './errors.js';
export type { ErrorCode } from './errors.js';

// Services, operations and stores: who serves what, on which subject; every bucket and stream (services.ts, rpc.ts, storage.ts)
export { SERVICES } from './services.js';
export type { ServiceName } from './services.js';
export { rpc, RPC_OPS, RPC_COMMON_ERRORS, RPC_REQUEST_HEADER, RpcReply, rpcReply } from './rpc.js';
export type { RpcOp, RpcRequest, RpcResult } from './rpc.js';
export { storage, STORES, kvBuckets, EVENT_STREAM } from './storage.js';
export type { StoreDecl, KvDecl, StreamDecl, StoreKey, KvKey } from './storage.js';

// Frames on NATS: JPEG body, metadata in headers (frame.ts)
export { FRAME_LIMITS, FrameMeta, encodeFrameHeaders, decodeFrameHeaders, jpegSize } from './frame.js';

// Faces and per-frame analysis (faces.ts, geometry.ts, analysis-config.ts)
export { Box, EXPRESSION_LABELS, DetectedFace, StageTimings, TextInFrame, FacesMessage, facesMessage, decodeFacesMessage, FaceScores, AnalysedFace, AnalysisMessage, analysisMessage, AnalyzeImageResult } from './faces.js';
export type { ExpressionLabel, HeadPose, EyeState, Expression, Liveness, AlignedCrop } from './faces.js';
export { iou } from './geometry.js';
export type { Rect } from './geometry.js';
export { ANALYZER_NAMES, DETECTION_MODES, DetectionSettings, RoomAnalysisConfig, roomAnalysisConfig } from './analysis-config.js';
export type { AnalyzerName, AnalyzerSettings, DetectionMode } from './analysis-config.js';

// Alert rules (rules.ts)
export { ALERT_KINDS, SEVERITIES, Severity, RuleThresholds, DEFAULT_RULES, resolveRules, RecognitionSettings } from './rules.js';
export type { AlertKind, ResolvedRule, ResolvedRules } from './rules.js';

// Events: alerts, recognitions, per-second metrics (events.ts)
export { Person, PersonInView, METRICS_PEOPLE_MAX, AlertEvent, alertEvent, RecognitionEvent, recognitionEvent, StreamMetricsEvent, streamMetricsEvent, eventMsgId } from './events.js';

// Sessions on streams (sessions.ts)
export { StreamSession, streamSession, streamKey, EndStreamRequest, EndStreamResult } from './sessions.js';

// The gallery's operations and records (gallery.ts)
export { GALLERY_OPS, IMAGE_REJECTIONS, ImageResult, SubjectSummary, IdentifyResult } from './gallery.js';
export type { GalleryOp, GalleryRequest, GalleryReply, ImageRejection } from './gallery.js';

// The SFU: signaling operations, stream and analysis state, events, instances and placement (sfu.ts)
export { sfuRequests, StreamState, AnalysisState, TapFailureCode, StreamAnalysis, StreamInfo, SfuEvent, sfuEvent, SfuInstanceInfo, sfuInstanceInfo, RoomPlacement, roomPlacement, SfuRoomRecord, sfuRoomRecord } from './sfu.js';
export type { SfuOp, SfuRequest, SfuReplyData } from './sfu.js';

// The REST API's bodies (api.ts)
export {
  API_PREFIX,
  ErrorResponse,
  ROOM_ROLES,
  RoomRole,
  TokenRequest,
  TokenReply,
  IceServer,
  IceServers,
  RoomCreate,
  RoomInfo,
  IngestCreate,
  SessionStart,
  SessionStarter,
  SessionInfo,
  sessionInfo,
  SessionReport,
  SessionAttendance,
  WEBHOOK_EVENTS,
  WebhookCreate,
  WebhookInfo,
  WEBHOOK_OUTCOMES,
  WebhookDelivery,
  EnrollJob,
  GalleryEnrollFields,
  galleryEnrollFields,
  GallerySubjectUpdate,
  GalleryNegativeCreate,
  GallerySubjectReply,
  GalleryEnrollReply,
  GallerySubjectList,
  GalleryDeleteReply,
} from './api.js';
export type { RoomTokenClaims, WebhookEventType } from './api.js';

// The WebSocket protocol (ws.ts)
export { WS_PATH, WS_CLOSE, WS_FEEDS, WsFeed, WS_DEFAULT_FEEDS, WS_PREVIEW_ROLES, PREVIEW_LIMITS, WsRole, WS_SIGNAL_OPS, ClientMessage, clientMessage, ServerMessage, serverMessage, ServerPreview, ServerJob } from './ws.js';

// Recording analysis jobs (jobs.ts)
export { JOB_STREAM, jobRoom, JOB_STATUSES, JOB_FINAL_STATUSES, JOB_FPS, JobCreateUrl, jobCreateUrl, JobUploadQuery, jobUploadQuery, JobSource, JobInfo, jobInfo, JobRecord, jobRecord, JobList, AnalyzeFrameRequest, ReidFrameResult } from './jobs.js';
export type { JobStatus } from './jobs.js';
