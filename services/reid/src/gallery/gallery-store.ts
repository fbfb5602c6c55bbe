import type { KV } from '@nats-io/kv';
import { LookoutError } from '@lookout/contracts';
import { galleryRecord, type GalleryRecord } from './gallery-record.js';

/** A failure about the subject asked for: `not_found`, `exists` or `conflict`, on `subjectId`. */
const subjectError = (code: 'not_found' | 'exists' | 'conflict', message: string) => new LookoutError(code, message, 'subjectId');

/**
 * Reads and writes gallery records. Every write returns only after JetStream has stored
 * it (the KV put is acknowledged), and updates are compare-and-set on the revision read,
 * so two replicas enrolling into one subject at once cannot lose an image.
 */
export class GalleryStore {
  constructor(private readonly kv: KV) {}

  async get(subjectId: string): Promise<{ record: GalleryRecord; revision: number } | null> {
    const e = await this.kv.get(subjectId);
    if (!e || e.operation !== 'PUT') return null;
    return { record: galleryRecord.parse(e.json()), revision: e.revision };
  }

  /** Returns the revision written. */
  async create(record: GalleryRecord): Promise<number> {
    try {
      return await this.kv.create(record.subjectId, JSON.stringify(record));
    } catch (err) {
      if (/wrong last sequence|exists/i.test((err as Error).message)) throw subjectError('exists', `subjectId: ${record.subjectId} already exists`);
      throw err;
    }
  }

  /**
   * Read-modify-write with retries on a concurrent change. `change` may throw to abort;
   * returns the record as written and its revision.
   */
  async update(
    subjectId: string,
    change: (r: GalleryRecord) => GalleryRecord | Promise<GalleryRecord>,
    attempts = 5,
  ): Promise<{ record: GalleryRecord; revision: number }> {
    for (let i = 0; i < attempts; i++) {
      const cur = await this.get(subjectId);
      if (!cur) throw subjectError('not_found', `subjectId: no subject ${subjectId}`);
      const next = await change(structuredClone(cur.record));
      try {
        const revision = await this.kv.update(subjectId, JSON.stringify(next), cur.revision);
        return { record: next, revision };
      } catch (err) {
        if (!/wrong last sequence/i.test((err as Error).message)) throw err;
      }
    }
    throw subjectError('conflict', `subjectId: ${subjectId} kept changing; try again`);
  }

  /** Removes the subject and its history from the bucket (purge, not a soft delete). */
  async purge(subjectId: string): Promise<boolean> {
    const cur = await this.get(subjectId);
    if (!cur) return false;
    await this.kv.purge(subjectId);
    return true;
  }
}
