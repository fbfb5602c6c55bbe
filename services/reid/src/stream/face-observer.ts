import type { FacesMessage } from '@lookout/contracts';
import { Counter, cropThumb, type Registry } from '@lookout/service-kit';
import { BadCropError, CROP_SIDE, FaceEmbedder, type DecodedCrop } from '../embedding/embedder.js';
import type { GalleryIndex } from '../gallery/gallery-index.js';
import { EMBED_REASONS, planEmbeddings, type EmbedPolicy, type EmbedReason } from './core/embed-plan.js';
import type { TrackerConfig } from './core/tracker.js';
import type { GalleryMatch, ObservedFace, TrackerState } from './core/types.js';

export interface FaceObserverOptions {
  embedder: FaceEmbedder;
  gallery: GalleryIndex;
  badMessages: Counter<'subject_kind' | 'reason'>;
  metrics: Registry;
  policy: EmbedPolicy;
  tracker: TrackerConfig;
}

/** Why a face was embedded: the plan's reasons, or a late frame (not in the state: every face). */
type CountedReason = EmbedReason | 'late';

interface Embedded {
  embedding: Float32Array;
  match: GalleryMatch | null;
}

/**
 * One frame's faces: each crop decoded at most once, and only when it is embedded (the
 * detector sends each face's thumbnail, which is all the embed decision needs); each face
 * embedded (and searched in the gallery) at most once, however many compare-and-set
 * attempts ask for it. A crop that came without a thumbnail is decoded at once to make one.
 */
export class FrameFaces {
  readonly embedded = new Map<number, Embedded>();
  private readonly thumbs: Array<string | null>;
  private readonly decoded = new Map<number, Promise<DecodedCrop | null>>();

  private constructor(
    readonly msg: FacesMessage,
    private readonly decodeCrop: (face: number) => Promise<DecodedCrop | null>,
  ) {
    this.thumbs = msg.faces.map((f) => (f.crop && f.thumb ? f.thumb : null));
  }

  /** The frame's faces; crops without a thumbnail are decoded now to make theirs. */
  static async of(msg: FacesMessage, decodeCrop: (face: number) => Promise<DecodedCrop | null>): Promise<FrameFaces> {
    const frame = new FrameFaces(msg, decodeCrop);
    await Promise.all(
      msg.faces.map(async (f, i) => {
        if (!f.crop || f.thumb) return;
        const crop = await frame.crop(i);
        frame.thumbs[i] = crop ? cropThumb(crop.rgb, CROP_SIDE) : null;
      }),
    );
    return frame;
  }

  /** Faces that have a crop, usable as far as is known (a crop that failed to decode is not). */
  get withCrops(): number[] {
    return this.thumbs.flatMap((t, i) => (t ? [i] : []));
  }

  /** The decoded crop of face `i` (null: none, or not decodable, and then no thumbnail either: it is never asked for again). */
  async crop(i: number): Promise<DecodedCrop | null> {
    let d = this.decoded.get(i);
    if (!d) {
      d = this.msg.faces[i]?.crop ? this.decodeCrop(i) : Promise.resolve(null);
      this.decoded.set(i, d);
    }
    const crop = await d;
    if (!crop) this.thumbs[i] = null;
    return crop;
  }

  /** The faces with the embeddings of `withEmbedding` only (thumb present when the crop is usable). */
  observed(withEmbedding: ReadonlySet<number>): ObservedFace[] {
    return this.msg.faces.map(({ crop: _crop, thumb: _thumb, ...face }, i) => {
      const e = withEmbedding.has(i) ? this.embedded.get(i) : undefined;
      return { face, embedding: e?.embedding ?? null, match: e?.match ?? null, thumb: this.thumbs[i] ?? null };
    });
  }
}

/**
 * Turns a faces message into observed faces, calling the embedding model (reid's dominant
 * cost) only for the faces the stream state says need it (core/embed-plan.ts).
 */
export class FaceObserver {
  private readonly embeddings: Counter<'reason'>;
  private readonly faces: Counter;

  constructor(private readonly o: FaceObserverOptions) {
    const registers = [o.metrics];
    this.embeddings = new Counter({ name: 'lookout_reid_embeddings_total', help: 'Faces run through the embedding model, by reason (new_track, settling, changed, refresh, late)', labelNames: ['reason'], registers });
    for (const r of [...EMBED_REASONS, 'late'] satisfies CountedReason[]) this.embeddings.inc({ reason: r }, 0);
    this.faces = new Counter({ name: 'lookout_reid_faces_total', help: 'Faces in the faces messages reid handled (compare with lookout_reid_embeddings_total)', registers });
  }

  /** The frame's faces; a crop is decoded when it is embedded, and a bad one is counted then and the face goes on without it. */
  async decode(msg: FacesMessage): Promise<FrameFaces> {
    this.faces.inc(msg.faces.length);
    return FrameFaces.of(msg, (i) =>
      FaceEmbedder.decode(Buffer.from(msg.faces[i]!.crop!.data, 'base64')).catch((e: unknown) => {
        if (!(e instanceof BadCropError)) throw e;
        this.o.badMessages.inc({ subject_kind: 'faces', reason: 'bad_crop' });
        return null;
      }),
    );
  }

  /**
   * The faces with the embeddings the plan asks for against `tracker` (the stream's tracks
   * as the frame will meet them), planning again after each round of embeddings until the
   * plan is satisfied.
   */
  async observe(frame: FrameFaces, tracker: TrackerState): Promise<ObservedFace[]> {
    const chosen = new Set<number>();
    for (;;) {
      const observed = frame.observed(chosen);
      const plan = planEmbeddings(tracker, observed, frame.msg.captureMs, this.o.tracker, this.o.policy);
      if (plan.length === 0) return observed;
      await this.embed(frame, plan);
      for (const r of plan) chosen.add(r.face);
    }
  }

  /** Every face with a crop embedded: for a frame the state will not take (late). */
  async observeAll(frame: FrameFaces): Promise<ObservedFace[]> {
    const all = frame.withCrops.map((face) => ({ face, reason: 'late' as const }));
    await this.embed(frame, all);
    return frame.observed(new Set(all.map((r) => r.face)));
  }

  private async embed(frame: FrameFaces, requests: ReadonlyArray<{ face: number; reason: CountedReason }>): Promise<void> {
    const crops = await Promise.all(requests.map((r) => (frame.embedded.has(r.face) ? null : frame.crop(r.face))));
    const todo = requests.filter((_, n) => crops[n]);
    const vectors = await this.o.embedder.embed(crops.filter((c): c is DecodedCrop => c !== null));
    todo.forEach((r, n) => {
      const embedding = vectors[n]!;
      frame.embedded.set(r.face, { embedding, match: this.o.gallery.match(embedding) });
      this.embeddings.inc({ reason: r.reason });
    });
  }
}
