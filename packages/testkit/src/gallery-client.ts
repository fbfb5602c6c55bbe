import type { NatsConnection } from '@nats-io/transport-node';
import { galleryReply, subjects, type GalleryOp, type GalleryReply } from '@lookout/contracts';

/** One gallery request/reply; the reply is validated against its contract schema. */
export async function galleryCall<O extends GalleryOp>(nc: NatsConnection, op: O, body: unknown, timeoutMs = 60_000): Promise<GalleryReply<O>> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const msg = await nc.request(subjects.gallery(op), payload, { timeout: timeoutMs });
  return galleryReply[op].parse(JSON.parse(new TextDecoder().decode(msg.data))) as GalleryReply<O>;
}
