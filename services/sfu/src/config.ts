import { Type } from '@sinclair/typebox';
import { configSchema } from '@lookout/service-kit';

export const SfuConfig = configSchema(9101, {
  mediasoupWorkerBin: Type.String({
    default: '/usr/lib/x86_64-linux-gnu/mediasoup/mediasoup-worker',
    description: "mediasoup-worker binary (Debian experimental's package; the npm package cannot build one here)",
  }),
  mediasoupWorkers: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: 'mediasoup workers (default: one per core)' })),
  rtcMinPort: Type.Integer({ minimum: 1024, maximum: 65535, default: 40000, description: 'Lowest UDP/TCP port for WebRTC' }),
  rtcMaxPort: Type.Integer({ minimum: 1024, maximum: 65535, default: 40999, description: 'Highest UDP/TCP port for WebRTC' }),
  mediasoupLogLevel: Type.Union([Type.Literal('debug'), Type.Literal('warn'), Type.Literal('error'), Type.Literal('none')], {
    default: 'warn',
    description: 'mediasoup worker log level',
  }),
});
