import { Type } from '@sinclair/typebox';
import { configSchema } from '@lookout/service-kit';

export const GatewayConfig = configSchema(8080, {
  webRoot: Type.String({ default: 'web/dist', description: 'Directory of the built web app served at /' }),
  wsMaxBufferedBytes: Type.Integer({
    minimum: 1024,
    default: 1_048_576,
    description: 'A WebSocket client with more than this queued unsent is skipped for live frames (slow client)',
  }),
  wsMaxMessageBytes: Type.Integer({ minimum: 1024, default: 65_536, description: 'Largest message a client may send' }),
});
