import type { NatsConnection } from '@nats-io/transport-node';
import type { AnalysedFace, GalleryRequest } from '@lookout/contracts';
import { analyzeImage, toJpeg } from './detector-client.js';
import { FaceEmbedder } from './embedder.js';
import type { GalleryIndex } from './gallery-index.js';

export class ImageRejectedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ImageRejectedError';
  }
}

/**
 * Single-image analysis: the detector's full result with every face matched against the
 * gallery. One image has no history, so identities are the raw accepted matches.
 */
export class ImageIdentifier {
  constructor(
    private readonly nc: NatsConnection,
    private readonly embedder: FaceEmbedder,
    private readonly gallery: GalleryIndex,
    private readonly timeoutMs: number,
  ) {}

  async identify(req: GalleryRequest<'identify'>): Promise<object> {
    const jpeg = await toJpeg(Buffer.from(req.image, 'base64'));
    if (!jpeg) throw new ImageRejectedError('bad_image', 'image: not a decodable JPEG or PNG');
    const reply = await analyzeImage(this.nc, jpeg, this.timeoutMs, req.room);
    if (!reply.ok) throw new ImageRejectedError(reply.error.code, `image: ${reply.error.message}`);
    const crops = await Promise.all(reply.faces.map((f) => (f.crop ? FaceEmbedder.decode(Buffer.from(f.crop.data, 'base64')) : null)));
    const vectors = await this.embedder.embed(crops.filter((c) => c !== null));
    let next = 0;
    const faces: AnalysedFace[] = reply.faces.map(({ crop: _crop, ...face }, i) => {
      const match = crops[i] ? this.gallery.match(vectors[next++]!) : null;
      return { ...face, identity: match?.accepted ? { subjectId: match.subjectId, name: match.name, similarity: match.similarity } : null };
    });
    return { width: reply.width, height: reply.height, faces, ...(reply.text ? { text: reply.text } : {}), timings: reply.timings };
  }
}
