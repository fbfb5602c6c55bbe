import { ConfigError, startService, usableCpus } from '@lookout/service-kit';
import { SfuConfig } from './config.js';
import { mediaCodecs } from './media-codecs.js';
import { Registry } from './registry.js';
import { RoomManager } from './room-manager.js';
import { ephemeralOverlap, RtpPortPool } from './rtp-ports.js';
import { SignalingServer } from './signaling.js';
import { TapMetrics } from './tap-metrics.js';
import { debianWorkerBin } from './worker-bin.js';
import { WorkerPool } from './worker-pool.js';

const svc = await startService({ name: 'sfu', config: SfuConfig });
const { config } = svc;
if (config.rtcMinPort > config.rtcMaxPort) throw new ConfigError('RTC_MIN_PORT', `must not exceed RTC_MAX_PORT (${config.rtcMinPort} > ${config.rtcMaxPort})`);
if (config.tapPortMin % 2 !== 0 || config.tapPortMin >= config.tapPortMax) throw new ConfigError('TAP_PORT_MIN', 'must be even and below TAP_PORT_MAX');
// Instance ids become subject tokens (sfu.<instance>.<op>).
if (!/^[A-Za-z0-9_-]{1,64}$/.test(svc.instance)) throw new ConfigError('INSTANCE_ID', `not a valid id: ${svc.instance}`);

const overlap = await ephemeralOverlap(config.tapPortMin, config.tapPortMax);
if (overlap) svc.log.warn(overlap);

const pool = await WorkerPool.start({
  workerBin: config.mediasoupWorkerBin ?? debianWorkerBin(),
  size: config.mediasoupWorkers ?? usableCpus().cpus,
  rtcMinPort: config.rtcMinPort,
  rtcMaxPort: config.rtcMaxPort,
  logLevel: config.mediasoupLogLevel,
  log: svc.log.child({ module: 'worker-pool' }),
  metrics: svc.metrics,
});
svc.addReadiness('mediasoup', () => pool.healthy());
svc.onShutdown('worker-pool', () => pool.close());

const registry = await Registry.open(svc.nc, svc.instance, svc.log.child({ module: 'registry' }), config.registryTtlMs);
const log = svc.log.child({ module: 'rooms' });
const rooms: RoomManager = new RoomManager(
  pool,
  registry,
  {
    nc: svc.nc,
    log,
    metrics: new TapMetrics(svc.metrics),
    ports: new RtpPortPool(config.tapPortMin, config.tapPortMax),
    ffmpegPath: config.ffmpegPath,
    maxWidth: config.maxFrameWidth,
    tapTiming: { bindWaitMs: config.tapBindWaitMs, firstFrameTimeoutMs: config.tapFirstFrameTimeoutMs, stallTimeoutMs: config.tapStallTimeoutMs },
    ingestFileRoot: config.ingestFileRoot,
    webRtc: {
      listenIp: config.rtcListenIp,
      ...(config.rtcAnnouncedIp ? { announcedIp: config.rtcAnnouncedIp } : {}),
      maxIncomingBitrate: config.maxIncomingBitrate,
      initialOutgoingBitrate: config.initialOutgoingBitrate,
    },
    onStreamState: (room, stream, state, error) => rooms.publish({ type: 'stream_state', room, stream, state, ...(error ? { error } : {}) }),
    onAnalysisState: (room, stream, analysis) => rooms.publish({ type: 'analysis_state', room, stream, analysis }),
  },
  config.sampleFps,
  svc.nc,
  svc.instance,
  log,
  svc.metrics,
  mediaCodecs(config.videoCodecs.split(',')),
);
svc.onShutdown('registry', () => registry.close(rooms.ids()));
svc.onShutdown('rooms', () => rooms.closeAll());
registry.startHeartbeat(() => ({ rooms: rooms.size, streams: rooms.streamCount, workers: pool.live().length }));

const signaling = new SignalingServer(svc.nc, svc.instance, rooms, svc.log.child({ module: 'signaling' }), svc.badMessages);
signaling.start();
svc.onShutdown('signaling', () => signaling.stop());

await svc.ready({ mediasoupWorkers: pool.pids, instance: svc.instance });
