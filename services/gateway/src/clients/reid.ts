import type { NatsConnection } from '@nats-io/transport-node';
import { rpc, type EndStreamRequest, type EndStreamResult, type GalleryOp, type GalleryReply, type GalleryRequest } from '@lookout/contracts';
import { call } from '@lookout/service-kit';

/** NATS's default when the server does not say. */
const DEFAULT_MAX_PAYLOAD = 1_048_576;

/**
 * The gateway's side of reid: every gallery operation and `reid.end_stream`, through the
 * operation table (timeouts included). Failures are LookoutErrors: reid's own code, or
 * `unavailable` when no reid answers.
 */
export class ReidClient {
  constructor(private readonly nc: NatsConnection) {}

  gallery<O extends GalleryOp>(op: O, request: GalleryRequest<O>): Promise<GalleryReply<O>> {
    return call(this.nc, rpc.gallery[op], request as never) as Promise<GalleryReply<O>>;
  }

  endStream(request: EndStreamRequest): Promise<EndStreamResult> {
    return call(this.nc, rpc.reid.endStream, request);
  }

  /** The largest request NATS carries: what a gallery request's images must fit in. */
  get maxPayload(): number {
    return this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }
}
