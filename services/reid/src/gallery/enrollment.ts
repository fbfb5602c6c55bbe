import { LookoutError, type DetectedFace, type ImageResult } from '@lookout/contracts';
import type { DetectorClient } from '../clients/detector.js';
import { FaceEmbedder } from '../embedding/embedder.js';
import { padded, toJpeg } from './images.js';

export interface EnrollmentSettings {
  minFaceSize: number;
  minSharpness: number;
  minScore: number;
  competingArea: number;
}

/** An image that passed every check, ready to be stored. */
export interface UsableFace {
  index: number;
  embedding: Float32Array;
  crop: string;
}

type Rejection = NonNullable<ImageResult['error']>;
const reject = (code: Rejection['code'], message: string): Rejection => ({ code, message });

/**
 * Turns enrollment images into embeddings, one usable face per image or a per-image
 * reason: the detector (over NATS, `detector.analyze`) finds the faces and makes the
 * aligned crop; this decides whether the face is good enough to stand for a person.
 */
export class Enrollment {
  constructor(
    private readonly detector: DetectorClient,
    private readonly embedder: FaceEmbedder,
    private readonly settings: EnrollmentSettings,
  ) {}

  async process(images: string[]): Promise<{ results: ImageResult[]; usable: UsableFace[] }> {
    const results: ImageResult[] = [];
    const usable: UsableFace[] = [];
    for (const [index, b64] of images.entries()) {
      const r = await this.one(index, b64);
      results.push(r.result);
      if (r.face) usable.push(r.face);
    }
    return { results, usable };
  }

  private async one(index: number, b64: string): Promise<{ result: ImageResult; face?: UsableFace }> {
    const fail = (error: Rejection, quality?: ImageResult['quality']): { result: ImageResult } => ({ result: { index, ok: false, error, ...(quality ? { quality } : {}) } });
    const jpeg = await toJpeg(Buffer.from(b64, 'base64'));
    if (!jpeg) return fail(reject('bad_image', `images/${index}: not a decodable JPEG or PNG`));
    let faces = await this.detect(jpeg, index);
    if (typeof faces === 'string') return fail(reject('bad_image', faces));
    // No confident face: tight crops leave the detector no context; try again with a border.
    if (!faces.some((f) => f.score >= this.settings.minScore)) {
      const again = await this.detect(await padded(jpeg), index);
      if (typeof again !== 'string') faces = again;
    }
    const picked = pickFace(faces, this.settings);
    if ('code' in picked) return fail(picked);
    const { face } = picked;
    const faceSize = Math.min(face.box[2] - face.box[0], face.box[3] - face.box[1]);
    if (!face.crop) return fail(reject('bad_image', `images/${index}: the detector returned no aligned crop (is the "crops" analyzer off?)`));
    const crop = await FaceEmbedder.decode(Buffer.from(face.crop.data, 'base64'));
    const quality = { faceSize: Math.round(faceSize), sharpness: Math.round(crop.sharpness), score: round(face.score) };
    if (faceSize < this.settings.minFaceSize) {
      return fail(reject('too_small', `images/${index}: face is ${quality.faceSize} px, needs at least ${this.settings.minFaceSize} px`), quality);
    }
    if (crop.sharpness < this.settings.minSharpness) {
      return fail(reject('too_blurred', `images/${index}: face sharpness ${quality.sharpness} is under ${this.settings.minSharpness}`), quality);
    }
    const [embedding] = await this.embedder.embed([crop]);
    return { result: { index, ok: true, quality }, face: { index, embedding: embedding!, crop: face.crop.data } };
  }

  /**
   * Faces in the image, or a message when the detector refused the image. A detector that
   * did not answer fails the whole request (`unavailable`): no verdict on this image.
   */
  private async detect(jpeg: Uint8Array, index: number): Promise<DetectedFace[] | string> {
    try {
      return (await this.detector.analyze(jpeg)).faces;
    } catch (err) {
      if (err instanceof LookoutError && err.code !== 'unavailable') return `images/${index}: ${err.message}`;
      throw err;
    }
  }
}

/**
 * The face that stands for the person: highest score (ties: larger). Faces under the
 * score floor are not faces; much smaller ones are background people and do not compete.
 */
export function pickFace(faces: DetectedFace[], s: Pick<EnrollmentSettings, 'minScore' | 'competingArea'>): { face: DetectedFace } | Rejection {
  const real = faces.filter((f) => f.score >= s.minScore).sort((a, b) => b.score - a.score || area(b) - area(a));
  const main = real[0];
  if (!main) return reject('no_face', faces.length ? 'no face detected with enough confidence' : 'no face detected');
  const competing = real.slice(1).filter((f) => area(f) >= s.competingArea * area(main));
  if (competing.length) return reject('several_faces', `${competing.length + 1} faces; an enrollment image must show exactly one person`);
  return { face: main };
}

function area(f: DetectedFace): number {
  return (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
