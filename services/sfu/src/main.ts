import { roomAnalysisConfig } from '@lookout/contracts';
import { ConfigError, KvMirror, startService, usableCpus } from '@lookout/service-kit';
import { SfuConfig } from './config.js';
import { mediaCodecs } from './rooms/media-codecs.js';
import { roomTransportCap, type MediaCaps } from './rooms/media-limits.js';
import { RoomAdoption } from './rooms/adoption.js';
import { Registry } from './rooms/registry.js';
import { RoomRecords } from './rooms/room-records.js';
import { RoomManager } from './rooms/room-manager.js';
import { serveSignaling } from './signaling/signaling.js';
import { openStores } from './stores.js';
import { ephemeralOverlap, RtpPortPool } from './tap/rtp-ports.js';
import { debianWorkerBin } from './workers/worker-bin.js';
import { WorkerPool } from './workers/worker-pool.js';

const svc = await startService({ name: 'sfu', config: SfuConfig });
const { config } = svc;
if (config.rtcMinPort > config.rtcMaxPort) throw new ConfigError('RTC_MIN_PORT', `must not exceed RTC_MAX_PORT (${config.rtcMinPort} > ${config.rtcMaxPort})`);
if (config.tapPortMin % 2 !== 0 || config.tapPortMin >= config.tapPortMax) throw new ConfigError('TAP_PORT_MIN', 'must be even and below TAP_PORT_MAX');
// Instance ids become subject tokens (sfu.<instance>.<op>).
if (!/^[A-Za-z0-9_-]{1,64}$/.test(svc.instance)) throw new ConfigError('INSTANCE_ID', `not a valid id: ${svc.instance}`);

// One WebRTC transport holds one UDP and one TCP port of the range, whichever worker has it.
const rtcPorts = config.rtcMaxPort - config.rtcMinPort + 1;
const roomTransports = roomTransportCap(rtcPorts, config.roomPortShare, config.maxTransportsPerRoom);
if (roomTransports.max < 1) throw new ConfigError('ROOM_PORT_SHARE', `leaves no port to a room (${config.roomPortShare} of ${rtcPorts} ports)`);
const limits: MediaCaps = {
  transport: { perPeer: { max: config.maxTransportsPerPeer, setting: 'MAX_TRANSPORTS_PER_PEER' }, perRoom: roomTransports },
  producer: { perPeer: { max: config.maxProducersPerPeer, setting: 'MAX_PRODUCERS_PER_PEER' }, perRoom: { max: config.maxProducersPerRoom, setting: 'MAX_PRODUCERS_PER_ROOM' } },
  consumer: { perPeer: { max: config.maxConsumersPerPeer, setting: 'MAX_CONSUMERS_PER_PEER' }, perRoom: { max: config.maxConsumersPerRoom, setting: 'MAX_CONSUMERS_PER_ROOM' } },
};
svc.log.info({ rtcPorts, transportsPerRoom: roomTransports.max, transportsPerPeer: config.maxTransportsPerPeer }, 'media caps');

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

const stores = await openStores(svc.nc, { ...svc.storage, tuned: { sfuInstances: { ttlMs: config.registryTtlMs } } });
// A room's config may raise its tap width (detection.maxFrameWidth) for tiled detection.
const roomConfigs = new KvMirror('room_config', roomAnalysisConfig, svc.log.child({ module: 'room-config' }), svc.badMessages);
await roomConfigs.start(stores.roomConfig);
svc.onShutdown('room-config', () => roomConfigs.stop());
const registry = new Registry({ instance: svc.instance, stores, ttlMs: config.registryTtlMs, log: svc.log.child({ module: 'registry' }) });
const records = new RoomRecords(stores.sfuRooms, svc.log.child({ module: 'room-records' }));
const rooms = new RoomManager({
  instance: svc.instance,
  pool,
  registry,
  records,
  nc: svc.nc,
  log: svc.log.child({ module: 'rooms' }),
  metrics: svc.metrics,
  codecs: mediaCodecs(config.videoCodecs.split(',')),
  defaultFps: config.sampleFps,
  media: {
    ports: new RtpPortPool(config.tapPortMin, config.tapPortMax),
    ffmpegPath: config.ffmpegPath,
    maxWidth: (room: string) => roomConfigs.get(room)?.detection?.maxFrameWidth ?? config.maxFrameWidth,
    tapTiming: { bindWaitMs: config.tapBindWaitMs, firstFrameTimeoutMs: config.tapFirstFrameTimeoutMs, stallTimeoutMs: config.tapStallTimeoutMs, frozenTimeoutMs: config.tapFrozenTimeoutMs },
    ingest: { fileRoot: config.ingestFileRoot, ffprobePath: config.ffprobePath, passthrough: config.ingestPassthrough },
    webRtc: {
      listenIp: config.rtcListenIp,
      ...(config.rtcAnnouncedIp ? { announcedIp: config.rtcAnnouncedIp } : {}),
      maxIncomingBitrate: config.maxIncomingBitrate,
      initialOutgoingBitrate: config.initialOutgoingBitrate,
    },
    limits,
  },
});
// Closed in reverse: signaling stops first, then adoption, the rooms (their records stay, their
// placements are given back: a restarted or another SFU builds them again), the registry, the workers.
svc.onShutdown('registry', () => registry.close(rooms.ids()));
svc.onShutdown('rooms', () => rooms.close());
registry.startHeartbeat(() => ({ rooms: rooms.size, streams: rooms.streamCount, workers: pool.live().length }));
// Rooms of a dead SFU, or of this one before a restart (same INSTANCE_ID), are built again here.
const adoption = new RoomAdoption({
  instance: svc.instance,
  records,
  registry,
  rooms,
  intervalMs: Math.max(1000, Math.floor(config.registryTtlMs / 3)),
  log: svc.log.child({ module: 'adoption' }),
});
svc.onShutdown('adoption', () => adoption.close());

const signaling = serveSignaling(svc.rpc, rooms, svc.instance);
svc.onShutdown('signaling', () => signaling.stop());

await svc.ready({ mediasoupWorkers: pool.pids, instance: svc.instance });
// After ready: signaling answers while adopted rooms are built (requests for them wait).
adoption.start();
