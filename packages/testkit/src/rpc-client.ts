import type { NatsConnection } from '@nats-io/transport-node';
import { rpc, rpcReply, subjects, type ErrorBody, type GalleryOp, type GalleryReply, type RpcReply, type SfuOp, type SfuReplyData } from '@lookout/contracts';
import { call } from '@lookout/service-kit';

/**
 * Test-side requests. `sfuOk` goes through service-kit's `call` like the services do.
 * The others send the body exactly as the test gives it (malformed on purpose, often) and
 * return the reply envelope as the server sent it: they exist to test the servers'
 * own validation, which a typed client would never let a bad request reach.
 */
export async function rawRpc(nc: NatsConnection, subject: string, body: unknown, timeoutMs = 20_000): Promise<RpcReply> {
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  const msg = await nc.request(subject, data, { timeout: timeoutMs });
  return rpcReply.parse(JSON.parse(new TextDecoder().decode(msg.data)));
}

/** One SFU signaling operation, sent as given; the reply envelope as sent. */
export function sfuCall(nc: NatsConnection, instance: string, op: SfuOp | string, body: unknown, timeoutMs = 20_000): Promise<RpcReply> {
  return rawRpc(nc, subjects.sfu(instance, op), body, timeoutMs);
}

/** A valid SFU operation through `call`: its result, or a LookoutError. */
export function sfuOk<O extends SfuOp>(nc: NatsConnection, instance: string, op: O, body: unknown): Promise<SfuReplyData<O>> {
  return call(nc, rpc.sfu[op], body as never, { instance }) as Promise<SfuReplyData<O>>;
}

/** A gallery reply flattened for assertions: `{ ok: true, ...result }` or `{ ok: false, error }`. */
export type GalleryOutcome<O extends GalleryOp> = ({ ok: true } & GalleryReply<O>) | { ok: false; error: ErrorBody };

/** One gallery operation, sent as given; the result validated against its contract. */
export async function galleryCall<O extends GalleryOp>(nc: NatsConnection, op: O, body: unknown, timeoutMs = 60_000): Promise<GalleryOutcome<O>> {
  const reply = await rawRpc(nc, subjects.gallery(op), body, timeoutMs);
  if (!reply.ok) return reply;
  return { ok: true, ...(rpc.gallery[op].reply.parse(reply.data) as GalleryReply<O>) };
}
