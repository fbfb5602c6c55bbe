// The public surface of @lookout/service-kit: what every Lookout service is built from.
// Named, not `export *`: the pieces startService assembles (NATS connection, metrics
// registry, exit helpers) and storage's comparison stay inside this package.

// A service's frame: config, logs, metrics, health, lifecycle (service.ts, config.ts, logger.ts, metrics.ts, http.ts, lifecycle.ts)
export { startService } from './service.js';
export type { ServiceOptions, ServiceContext } from './service.js';
export { ConfigError, envName, configSchema, loadConfig, describeConfig } from './config.js';
export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { Registry, Counter, Gauge, Histogram } from './metrics.js';
export { createHealthHandler, sendJson, listenHttp, closeHttp, urlHost, localUrlHost } from './http.js';
export type { HealthOptions, ReadinessCheck } from './http.js';
export { Lifecycle } from './lifecycle.js';

// Load shedding: the newest item per stream waits, older ones are dropped (latest-frame-queue.ts)
export { LatestFrameQueue } from './latest-frame-queue.js';
export { fairlyAdmitted } from './fair-share.js';

// The aligned crop's 16×16 grey thumbnail: the detector sends it, reid compares it (crop-thumb.ts)
export { cropThumb, THUMB_SIDE } from './crop-thumb.js';

// Request/reply between services: the one serve and call (rpc.ts)
export { call, RpcServer, rpcMetrics } from './rpc.js';
export type { CallOptions, RequestContext, Handler, ServeOptions, Responder, RpcMetrics, RpcServerDeps } from './rpc.js';

// JetStream stores as the contracts' table declares them; KV followed live (storage.ts, kv-mirror.ts)
export { StorageMismatchError, streamNameOf, ensureStore, openKv, openKvs } from './storage.js';
export type { StorageOptions } from './storage.js';
export { followBucket, KvMirror } from './kv-mirror.js';
export { readPending } from './read-pending.js';

// Erasing KV entries for good: secure deletes of every revision (kv-erasure.ts)
export { kvStreamOf, eraseKey, eraseMessage, dropStaleIndex } from './kv-erasure.js';
export type { KvStream } from './kv-erasure.js';
export { kvKeys } from './kv-keys.js';

// Exponential backoff of retried calls (backoff.ts)
export { backoffDelay } from './backoff.js';

// An ffmpeg child: stderr tail, exit, ordered stop (ffmpeg-process.ts; the SFU's taps and ingests, the gateway's job decoder)
export { startFfmpeg, describeExit } from './ffmpeg-process.js';
export type { FfmpegExit, FfmpegProcess } from './ffmpeg-process.js';

// ffmpeg's image2pipe MJPEG output split into whole JPEGs (jpeg-splitter.ts)
export { JpegSplitter } from './jpeg-splitter.js';
export type { BucketFollower, MirrorParser } from './kv-mirror.js';

// The host: install root, usable CPUs, /proc readers (paths.ts, cpus.ts, proc-stat.ts)
export { INSTALL_ROOT, fromInstallRoot } from './paths.js';
export { parseCpuMax, parseCfsQuota, quotaFiles, usableCpus } from './cpus.js';
export type { CpuBudget } from './cpus.js';
export {
  parseProcStat,
  parseClockTick,
  readClockTick,
  clockTick,
  readProcStat,
  processCpuSeconds,
  parseVmRssBytes,
  processRssBytes,
  parseCmdline,
  processCommandLine,
  processTable,
  commMatches,
  childrenIn,
  descendantsIn,
  childPids,
  parseCpuInfoFields,
  readCpuInfoFields,
} from './proc-stat.js';
export type { ProcStat, ClockTick } from './proc-stat.js';

// Locale-independent orders (order.ts)
export { byCodeUnits, byName } from './order.js';
