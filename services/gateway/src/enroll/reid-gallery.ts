import type { NatsConnection } from '@nats-io/transport-node';
import { galleryReply, subjects, type GalleryError, type GalleryOp, type GalleryReply, type ImageResult, type SubjectSummary } from '@lookout/contracts';

const DEFAULT_MAX_PAYLOAD = 1_048_576;
/** Room for the request's JSON around the images (keys, quotes, commas). */
const ENVELOPE_BYTES = 1024;
/** reid's contract: 1–20 images per request. */
const MAX_IMAGES_PER_CALL = 20;
const TIMEOUT_MS = 60_000;
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
  error?: GalleryError;
}

const base64Length = (bytes: number) => Math.ceil(bytes / 3) * 4;

/** The gateway's side of reid's `gallery.<op>` request/reply. */
export class ReidGallery {
  constructor(private readonly nc: NatsConnection) {}

  /** One request; a transport failure becomes an `unavailable` error reply. */
  async call<O extends GalleryOp>(op: O, body: unknown): Promise<GalleryReply<O>> {
    let data: Uint8Array;
    try {
      data = (await this.nc.request(subjects.gallery(op), JSON.stringify(body), { timeout: TIMEOUT_MS })).data;
    } catch (err) {
      return { ok: false, error: { code: 'unavailable', message: `reid: ${(err as Error).message}` } } as GalleryReply<O>;
    }
    return galleryReply[op].parse(JSON.parse(new TextDecoder().decode(data))) as GalleryReply<O>;
  }

  /** Bytes of base64 images one request for `target` may carry (the NATS max payload). */
  imageBudget(target: EnrollTarget): number {
    const maxPayload = this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
    // The same budget for enroll (name) and add (id) keeps a person's requests packed alike.
    return maxPayload - ENVELOPE_BYTES - Math.max(Buffer.byteLength(JSON.stringify(target)), TARGET_BYTES);
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
   * Enrolls (or adds) any number of images in requests that fit the payload limit: the
   * first request that has a usable image creates the subject, the rest are added to it,
   * so a person none of whose images is usable is never created.
   */
  async enrollChunked(target: EnrollTarget, images: readonly Buffer[]): Promise<ChunkedEnrollment> {
    const out: ChunkedEnrollment = { images: images.map(() => undefined) };
    let subjectId = target.mode === 'add' ? target.subjectId : undefined;
    for (const chunk of this.pack(target, images.map((i) => i.length))) {
      const payload = chunk.map((i) => images[i]!.toString('base64'));
      const reply = subjectId ? await this.call('add_images', { subjectId, images: payload }) : await this.call('enroll', { ...withoutMode(target), images: payload });
      const results = reply.ok ? reply.images : reply.error.code === 'no_usable_image' ? (reply.error.images ?? []) : undefined;
      for (const r of results ?? []) {
        const index = chunk[r.index];
        if (index !== undefined) out.images[index] = { ...r, index };
      }
      if (reply.ok) {
        out.subject = reply.subject;
        subjectId = reply.subject.subjectId;
      } else if (!results) {
        out.error = reply.error;
        return out;
      }
    }
    if (!out.subject) {
      out.error = { code: 'no_usable_image', message: 'images: no image has exactly one usable face', field: 'images', images: out.images.filter((r): r is ImageResult => !!r) };
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

function withoutMode(t: EnrollTarget): Record<string, unknown> {
  const { mode: _mode, ...rest } = t;
  return rest;
}
