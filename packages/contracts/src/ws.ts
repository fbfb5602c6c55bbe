import { Type, type Static } from '@sinclair/typebox';
import { Id } from './ids.js';
import { AnalysisMessage } from './faces.js';
import { validator } from './validation.js';

/** Path of the gateway's single WebSocket endpoint. */
export const WS_PATH = '/ws';

export const ClientSubscribe = Type.Object(
  { type: Type.Literal('subscribe'), room: Id, id: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);
export const ClientUnsubscribe = Type.Object(
  { type: Type.Literal('unsubscribe'), room: Id, id: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);
export const ClientPing = Type.Object(
  { type: Type.Literal('ping'), id: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);

export const ClientMessage = Type.Union([ClientSubscribe, ClientUnsubscribe, ClientPing], { $id: 'ClientMessage' });
export type ClientMessage = Static<typeof ClientMessage>;
export const clientMessage = validator('websocket message', ClientMessage);

export const ServerAck = Type.Object({
  type: Type.Literal('ack'),
  id: Type.Optional(Type.String()),
  op: Type.Union([Type.Literal('subscribe'), Type.Literal('unsubscribe'), Type.Literal('ping')]),
  room: Type.Optional(Id),
});
export const ServerAnalysis = Type.Object({ type: Type.Literal('analysis'), data: AnalysisMessage });
export const ServerError = Type.Object({
  type: Type.Literal('error'),
  id: Type.Optional(Type.String()),
  code: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});

export const ServerMessage = Type.Union([ServerAck, ServerAnalysis, ServerError], { $id: 'ServerMessage' });
export type ServerMessage = Static<typeof ServerMessage>;
export const serverMessage = validator('server message', ServerMessage);
