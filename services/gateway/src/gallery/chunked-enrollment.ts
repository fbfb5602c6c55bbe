import { LookoutError, type ImageResult, type SubjectSummary } from '@lookout/contracts';
import type { ReidClient } from '../clients/reid.js';

/** Room for the request's JSON around the images (keys, quotes, commas). */
const ENVELOPE_BYTES = 1024;
/** reid's contract: 1–20 images per request. */
const MAX_IMAGES_PER_CALL = 20;
/** A name (≤ 200 characters) or an id, with its keys, as JSON. */
const TARGET_BYTES = 1024;

/** Who the images are for: a new subject (enroll) or an existing one (add_images). */
export type EnrollTarget = { mode: 'enroll'; name: string; subjectId?: string; metadata?: Record<string, string | number | boolean> } | { mode: 'add'; subjectId: string };

/**
 * The result of sending many images in several requests. `images[i]` is reid's verdict on
 * image i (undefined if it was never sent). `error` without `subject`: nothing was written.
 * `error` with `subject`: the subject exists with the images marked ok, the rest failed.
 */
export interface ChunkedEnrollment {
  subject?: SubjectSummary;
  images: Array<ImageResult | undefined>;
  error?: LookoutError;
}

const base64Length = (bytes: number) => Math.ceil(bytes / 3) * 4;

/** reid's verdicts in a no_usable_image error (`details.images`), or undefined for any other error. */
function verdictsOf(err: LookoutError): ImageResult[] | undefined {
  if (err.code !== 'no_usable_image') return undefined;
  const images = err.details?.images;
  return Array.isArray(images) ? (images as ImageResult[]) : [];
}

/**
 * Enrollment of any number of images through reid's `gallery.enroll` and
 * `gallery.add_images`, each request packed to fit the NATS max payload and reid's
 * 20-image limit.
 */
export class ChunkedEnroller {
  constructor(private readonly reid: ReidClient) {}

  /** Bytes of base64 images one request for `target` may carry (the NATS max payload). */
  imageBudget(target: EnrollTarget): number {
    // The same budget for enroll (name) and add (id) keeps a person's requests packed alike.
    return this.reid.maxPayload - ENVELOPE_BYTES - Math.max(Buffer.byteLength(JSON.stringify(target)), TARGET_BYTES);
  }

  /** The largest image one request can carry (for a name or id of usual size). */
  maxImageBytes(): number {
    return Math.floor((this.imageBudget({ mode: 'add', subjectId: '' }) - 3) / 4) * 3;
  }

  /** Whether an image of `bytes` fits in one request for `target`. */
  fits(bytes: number, target: EnrollTarget): boolean {
    return base64Length(bytes) + 3 <= this.imageBudget(target);
  }

  /**
   * Enrolls (or adds) the images in requests that fit: the first request that has a usable
   * image creates the subject, the rest are added to it, so a person none of whose images
   * is usable is never created.
   */
  async enroll(target: EnrollTarget, images: readonly Buffer[]): Promise<ChunkedEnrollment> {
    const out: ChunkedEnrollment = { images: images.map(() => undefined) };
    let subjectId = target.mode === 'add' ? target.subjectId : undefined;
    for (const chunk of this.pack(target, images.map((i) => i.length))) {
      const payload = chunk.map((i) => images[i]!.toString('base64'));
      let results: ImageResult[];
      try {
        const reply = subjectId ? await this.reid.gallery('add_images', { subjectId, images: payload }) : await this.reid.gallery('enroll', { ...withoutMode(target), images: payload });
        out.subject = reply.subject;
        subjectId = reply.subject.subjectId;
        results = reply.images;
      } catch (err) {
        if (!(err instanceof LookoutError)) throw err;
        const verdicts = verdictsOf(err);
        if (!verdicts) return { ...out, error: err };
        results = verdicts;
      }
      for (const r of results) {
        const index = chunk[r.index];
        if (index !== undefined) out.images[index] = { ...r, index };
      }
    }
    if (!out.subject) {
      const images = out.images.filter((r): r is ImageResult => !!r);
      out.error = new LookoutError('no_usable_image', 'images: no image has exactly one usable face', 'images', { images });
    }
    return out;
  }

  /** Greedy packing of images (by byte size) into requests under the payload and count limits. */
  pack(target: EnrollTarget, sizes: readonly number[], maxCount = MAX_IMAGES_PER_CALL): number[][] {
    const budget = this.imageBudget(target);
    const chunks: number[][] = [];
    let cur: number[] = [];
    let used = 0;
    sizes.forEach((bytes, i) => {
      const size = base64Length(bytes) + 3;
      if (size > budget) throw new Error(`image ${i}: ${bytes} bytes do not fit one gallery request`);
      if (cur.length && (used + size > budget || cur.length >= Math.min(maxCount, MAX_IMAGES_PER_CALL))) {
        chunks.push(cur);
        cur = [];
        used = 0;
      }
      cur.push(i);
      used += size;
    });
    if (cur.length) chunks.push(cur);
    return chunks;
  }
}

function withoutMode(t: EnrollTarget): { name: string; subjectId?: string; metadata?: Record<string, string | number | boolean> } {
  if (t.mode !== 'enroll') throw new Error('withoutMode: an add target has no enroll fields');
  const { mode: _mode, ...rest } = t;
  return rest;
}
