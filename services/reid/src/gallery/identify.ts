import { LookoutError, type AnalysedFace, type AnalyzeImageResult, type GalleryReply, type GalleryRequest } from '@lookout/contracts';
import type { DetectorClient } from '../clients/detector.js';
import { FaceEmbedder } from '../embedding/embedder.js';
import type { GalleryIndex } from './gallery-index.js';
import { toJpeg } from './images.js';

/**
 * Single-image analysis: the detector's full result with every face matched against the
 * gallery. One image has no history, so identities are the raw accepted matches.
 */
export class ImageIdentifier {
  constructor(
    private readonly detector: DetectorClient,
    private readonly embedder: FaceEmbedder,
    private readonly gallery: GalleryIndex,
  ) {}

  async identify(req: GalleryRequest<'identify'>): Promise<GalleryReply<'identify'>> {
    const jpeg = await toJpeg(Buffer.from(req.image, 'base64'));
    if (!jpeg) throw new LookoutError('bad_image', 'image: not a decodable JPEG or PNG', 'image');
    const reply = await this.analyze(jpeg, req.room);
    const crops = await Promise.all(reply.faces.map((f) => (f.crop ? FaceEmbedder.decode(Buffer.from(f.crop.data, 'base64')) : null)));
    const vectors = await this.embedder.embed(crops.filter((c) => c !== null));
    let next = 0;
    const faces: AnalysedFace[] = reply.faces.map(({ crop: _crop, thumb: _thumb, ...face }, i) => {
      const match = crops[i] ? this.gallery.match(vectors[next++]!) : null;
      return { ...face, identity: match?.accepted ? { subjectId: match.subjectId, name: match.name, similarity: match.similarity } : null };
    });
    return { width: reply.width, height: reply.height, faces, ...(reply.text ? { text: reply.text } : {}), timings: reply.timings };
  }

  /** The detector's refusal of the image is the request's failure, about its `image`. */
  private async analyze(jpeg: Uint8Array, room: string | undefined): Promise<AnalyzeImageResult> {
    try {
      return await this.detector.analyze(jpeg, room);
    } catch (err) {
      if (!(err instanceof LookoutError) || err.code === 'unavailable') throw err;
      throw new LookoutError(err.code, `image: ${err.message}`, 'image');
    }
  }
}
