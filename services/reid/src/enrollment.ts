import type { NatsConnection } from '@nats-io/transport-node';
import sharp from 'sharp';
import type { DetectedFace, ImageResult } from '@lookout/contracts';
import { analyzeImage, toJpeg } from './detector-client.js';
import { FaceEmbedder } from './embedder.js';

export interface EnrollmentSettings {
  minFaceSize: number;
  minSharpness: number;
  minScore: number;
  competingArea: number;
  detectorTimeoutMs: number;
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
    private readonly nc: NatsConnection,
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
    // Tight crops (ID photos, cropped portraits) leave the detector no context; a border helps.
    if (!faces.some((f) => f.score >= this.settings.minScore)) {
      const padded = await pad(jpeg);
      const again = await this.detect(padded, index);
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

  /** Faces in the image, or a message when the detector refused the image. */
  private async detect(jpeg: Uint8Array, index: number): Promise<DetectedFace[] | string> {
    const reply = await analyzeImage(this.nc, jpeg, this.settings.detectorTimeoutMs);
    if (!reply.ok) return `images/${index}: ${reply.error.message}`;
    return reply.faces;
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

async function pad(jpeg: Uint8Array): Promise<Uint8Array> {
  const meta = await sharp(jpeg).metadata();
  const p = Math.round(Math.max(meta.width ?? 0, meta.height ?? 0) * 0.25);
  return sharp(jpeg).extend({ top: p, bottom: p, left: p, right: p, background: '#808080' }).jpeg({ quality: 95 }).toBuffer();
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
