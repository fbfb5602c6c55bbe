import type { KV } from '@nats-io/kv';
import type { JetStreamManager } from '@nats-io/jetstream';
import { LookoutError } from '@lookout/contracts';
import { dropStaleIndex, eraseKey, eraseMessage, type KvStream } from '@lookout/service-kit';
import { galleryRecord, subjectRef, type GalleryRecord } from './gallery-record.js';

/** A failure about the subject asked for: `not_found`, `exists` or `conflict`, on `subjectId`. */
const subjectError = (code: 'not_found' | 'exists' | 'conflict', message: string) => new LookoutError(code, message, 'subjectId');

/**
 * Key of a deleted subject's tombstone: `erased.<ref>`. Subject ids have no dots, so it
 * cannot be a subject. It holds nothing and names nobody (the ref means nothing once the
 * record is gone); it is how every replica's index learns of the delete (gallery-index.ts).
 */
export const TOMBSTONE_PREFIX = 'erased.';

/**
 * Reads and writes gallery records. Every write returns only after JetStream has stored
 * it (the KV put is acknowledged), and updates are compare-and-set on the revision read,
 * so two replicas enrolling into one subject at once cannot lose an image.
 *
 * Nothing of a subject may outlive its delete in the NATS data directory. JetStream only
 * marks a message deleted when a KV limit or purge removes it (its bytes stay in the block
 * file); a message deleted with `erase` is overwritten with random bytes. So the bucket
 * keeps history (the table's `history`) and every replaced revision is erased here right
 * after the update; a delete erases every revision, then announces itself with a
 * tombstone rather than a KV delete or purge marker, which would carry the subject id.
 */
export class GalleryStore {
  constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly stored: KvStream,
  ) {}

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
   * returns the record as written and its revision. The revision replaced is erased.
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
      let revision: number;
      try {
        revision = await this.kv.update(subjectId, JSON.stringify(next), cur.revision);
      } catch (err) {
        if (!/wrong last sequence/i.test((err as Error).message)) throw err;
        continue;
      }
      // A failure here leaves an old revision until the delete, which erases them all.
      await eraseMessage(this.jsm, this.stored.stream, cur.revision).catch(() => undefined);
      return { record: next, revision };
    }
    throw subjectError('conflict', `subjectId: ${subjectId} kept changing; try again`);
  }

  /**
   * Erases every stored revision of the subject, then writes its tombstone. Returns the
   * subject's ref and the tombstone's revision, or null when there was no such subject.
   */
  async remove(subjectId: string): Promise<{ ref: string; tombstone: number } | null> {
    const cur = await this.get(subjectId);
    if (!cur) return null;
    const ref = subjectRef(cur.record);
    await eraseKey(this.jsm, this.stored, subjectId);
    const tombstone = await this.kv.put(`${TOMBSTONE_PREFIX}${ref}`, '');
    // A write that raced the erasure (an update CAS'd on a revision just before it) is erased too.
    await eraseKey(this.jsm, this.stored, subjectId);
    await dropStaleIndex(this.jsm, this.stored.stream).catch(() => undefined);
    return { ref, tombstone };
  }

}
