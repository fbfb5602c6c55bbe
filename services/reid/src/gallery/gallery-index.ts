import type { KV } from '@nats-io/kv';
import type { SubjectSummary } from '@lookout/contracts';
import { byCodeUnits, byName, followBucket, Gauge, type BucketFollower, type Counter, type Logger, type Registry } from '@lookout/service-kit';
import { galleryRecord, subjectRef, summarize, type GalleryRecord } from './gallery-record.js';
import { TOMBSTONE_PREFIX } from './gallery-store.js';
import { VectorIndex } from '@lookout/vector-index';
import { decodeVector, dot } from '../embedding/vector-codec.js';
import type { GalleryMatch } from '../stream/core/types.js';
import type { SubjectRefs } from '../stream/state-pseudonyms.js';

export interface MatchSettings {
  acceptSimilarity: number;
  acceptMargin: number;
  negativeMargin: number;
  topK: number;
}

interface SubjectEntry {
  summary: SubjectSummary;
  ref: string;
  keys: string[];
  negatives: Float32Array[];
}

/**
 * This replica's in-memory copy of the gallery: every embedding in a VectorIndex, names
 * and negative examples per subject. It follows the KV bucket with a watch, so an
 * enrollment made through any replica is searchable here as soon as the watch delivers it.
 * A delete arrives as the subject's tombstone (`erased.<ref>`, gallery-store.ts): its
 * record has been erased, not marked deleted, so no other change is seen.
 *
 * It is also the map between subjects and their refs (state-pseudonyms.ts).
 */
export class GalleryIndex implements SubjectRefs {
  private readonly subjects = new Map<string, SubjectEntry>();
  private readonly byRefs = new Map<string, string>();
  private lastApplied = 0;
  private readonly revisionWaiters: Array<{ revision: number; resolve: () => void }> = [];
  private readonly index: VectorIndex;
  private follower: BucketFollower | undefined;
  private readonly waiters = new Map<string, Array<{ revision: number; resolve: () => void }>>();
  private readonly revisions = new Map<string, number>();

  constructor(
    dim: number,
    private readonly settings: MatchSettings,
    private readonly log: Logger,
    private readonly badMessages: Counter<'subject_kind' | 'reason'>,
    metrics?: Registry,
  ) {
    this.index = new VectorIndex({ dim });
    if (metrics) this.registerGauges(metrics);
  }

  private registerGauges(metrics: Registry): void {
    const index = this.index;
    const subjects = this.subjects;
    new Gauge({
      name: 'lookout_reid_gallery_subjects',
      help: "Subjects in this replica's gallery index",
      registers: [metrics],
      collect() {
        this.set(subjects.size);
      },
    });
    new Gauge({
      name: 'lookout_reid_gallery_embeddings',
      help: "Embeddings in this replica's gallery index",
      registers: [metrics],
      collect() {
        this.set(index.size);
      },
    });
  }

  async start(kv: KV): Promise<void> {
    this.follower = await followBucket(kv, (e) => {
      if (e.key.startsWith(TOMBSTONE_PREFIX)) {
        const subjectId = this.byRefs.get(e.key.slice(TOMBSTONE_PREFIX.length));
        if (subjectId !== undefined) this.remove(subjectId, e.revision);
      } else if (e.operation === 'PUT') this.put(e.key, e.revision, () => galleryRecord.parse(e.json()));
      else this.remove(e.key, e.revision);
      this.advanced(e.revision);
    });
  }

  /** Resolves once the bucket's existing entries are all in memory (start() first). */
  whenReady(): Promise<void> {
    return this.follower?.whenLoaded ?? Promise.reject(new Error('gallery index not started'));
  }

  /** True once the bucket's existing entries are all in memory. */
  get ready(): boolean {
    return this.follower?.loaded ?? false;
  }

  get subjectCount(): number {
    return this.subjects.size;
  }

  get embeddingCount(): number {
    return this.index.size;
  }

  get isEmpty(): boolean {
    return this.subjects.size === 0;
  }

  nameOf(subjectId: string): string | undefined {
    return this.subjects.get(subjectId)?.summary.name;
  }

  /** The similarity at which a face is taken to be a subject. */
  get acceptSimilarity(): number {
    return this.settings.acceptSimilarity;
  }

  refOf(subjectId: string): string | undefined {
    return this.subjects.get(subjectId)?.ref;
  }

  byRef(ref: string): { subjectId: string; name: string } | undefined {
    const subjectId = this.byRefs.get(ref);
    const entry = subjectId === undefined ? undefined : this.subjects.get(subjectId);
    return entry && { subjectId: entry.summary.subjectId, name: entry.summary.name };
  }

  /** Resolves once this replica has applied every change of the bucket up to `revision`. */
  caughtUpTo(revision: number): Promise<void> {
    if (this.lastApplied >= revision) return Promise.resolve();
    return new Promise((resolve) => this.revisionWaiters.push({ revision, resolve }));
  }

  private advanced(revision: number): void {
    this.lastApplied = Math.max(this.lastApplied, revision);
    for (let i = this.revisionWaiters.length - 1; i >= 0; i--) {
      const w = this.revisionWaiters[i]!;
      if (w.revision <= this.lastApplied) {
        this.revisionWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /**
   * The enrolled subject other than `except` whose images are closest to `embedding`
   * (best raw cosine, no negatives), or null: how enrollment finds a face that is already
   * someone else's.
   */
  closestOther(embedding: Float32Array, except?: string): { subjectId: string; name: string; similarity: number } | null {
    // `except`'s own images may fill the top k: look past them.
    const own = except === undefined ? 0 : (this.subjects.get(except)?.keys.length ?? 0);
    for (const hit of this.index.search(embedding, this.settings.topK + own)) {
      const subjectId = hit.key.slice(0, hit.key.indexOf('/'));
      const entry = this.subjects.get(subjectId);
      if (subjectId !== except && entry) return { subjectId, name: entry.summary.name, similarity: round(hit.score) };
    }
    return null;
  }

  summaries(): SubjectSummary[] {
    return [...this.subjects.values()].map((s) => s.summary).sort((a, b) => byName(a.name, b.name) || byCodeUnits(a.subjectId, b.subjectId));
  }

  /** Resolves once this replica has applied `revision` of `subjectId` (or a later one). */
  caughtUp(subjectId: string, revision: number): Promise<void> {
    if ((this.revisions.get(subjectId) ?? 0) >= revision) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(subjectId) ?? [];
      list.push({ revision, resolve });
      this.waiters.set(subjectId, list);
    });
  }

  /**
   * Best subject for one embedding. Scores are the best positive similarity per subject,
   * lowered by that subject's negative examples: a face about as close to a known "not
   * this subject" face as to the subject itself (within negativeMargin) loses twice the
   * difference.
   */
  match(embedding: Float32Array): GalleryMatch | null {
    if (this.index.size === 0) return null;
    const best = new Map<string, number>();
    for (const hit of this.index.search(embedding, this.settings.topK)) {
      const subjectId = hit.key.slice(0, hit.key.indexOf('/'));
      if (!best.has(subjectId)) best.set(subjectId, hit.score);
    }
    const scored = [...best].map(([subjectId, pos]) => ({ subjectId, score: this.adjusted(subjectId, pos, embedding) })).sort((a, b) => b.score - a.score);
    const top = scored[0];
    const entry = top && this.subjects.get(top.subjectId);
    if (!top || !entry) return null;
    const second = scored[1]?.score ?? -1;
    const accepted = top.score >= this.settings.acceptSimilarity && top.score - second >= this.settings.acceptMargin;
    return { subjectId: top.subjectId, name: entry.summary.name, similarity: round(top.score), accepted };
  }

  private adjusted(subjectId: string, positive: number, embedding: Float32Array): number {
    const negatives = this.subjects.get(subjectId)?.negatives ?? [];
    let worst = -1;
    for (const n of negatives) worst = Math.max(worst, dot(n, embedding));
    // Twice the overlap: a face as close to a rejected face as to the subject must fall
    // well under the accept threshold, not just below its own score.
    return positive - 2 * Math.max(0, worst - positive + this.settings.negativeMargin);
  }

  private put(subjectId: string, revision: number, parse: () => GalleryRecord): void {
    let record: GalleryRecord;
    try {
      record = parse();
    } catch (err) {
      this.badMessages.inc({ subject_kind: 'gallery_record', reason: 'invalid' });
      this.log.warn({ subjectId, error: (err as Error).message }, 'ignored invalid gallery record');
      return;
    }
    this.dropVectors(subjectId);
    const keys: string[] = [];
    for (const e of record.embeddings) {
      const key = `${subjectId}/${e.id}`;
      this.index.add(key, decodeVector(e.vector));
      keys.push(key);
    }
    const ref = subjectRef(record);
    this.subjects.set(subjectId, { summary: summarize(record), ref, keys, negatives: record.negatives.map((n) => decodeVector(n.vector)) });
    this.byRefs.set(ref, subjectId);
    this.applied(subjectId, revision);
  }

  private remove(subjectId: string, revision: number): void {
    this.dropVectors(subjectId);
    const ref = this.subjects.get(subjectId)?.ref;
    if (ref !== undefined) this.byRefs.delete(ref);
    this.subjects.delete(subjectId);
    this.applied(subjectId, revision);
  }

  private dropVectors(subjectId: string): void {
    for (const key of this.subjects.get(subjectId)?.keys ?? []) this.index.remove(key);
  }

  private applied(subjectId: string, revision: number): void {
    // A removed subject leaves nothing behind, not even its last revision.
    if (this.subjects.has(subjectId)) this.revisions.set(subjectId, revision);
    else this.revisions.delete(subjectId);
    const list = this.waiters.get(subjectId);
    if (!list) return;
    const still = list.filter((w) => (w.revision <= revision ? (w.resolve(), false) : true));
    if (still.length) this.waiters.set(subjectId, still);
    else this.waiters.delete(subjectId);
  }

  stop(): void {
    this.follower?.stop();
  }
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
