import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { jobRecord, storage, type JobRecord } from '@lookout/contracts';
import { byCodeUnits, eraseKey, kvKeys, kvStreamOf } from '@lookout/service-kit';

const CAS_RETRIES = 10;
const LIST_CONCURRENCY = 16;
const JOBS = kvStreamOf(storage.jobs);

export interface Stored {
  rec: JobRecord;
  revision: number;
}

/**
 * Recording jobs in KV (`lookout_jobs`, key = job id): every write is a compare-and-set
 * against the revision read, so two gateways (a restarted one and the one that took its
 * jobs over) never both believe they run a job. The bucket keeps one revision; a deleted
 * job is erased (its name and source URL go with it).
 */
export class JobStore {
  constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
  ) {}

  async create(rec: JobRecord): Promise<number> {
    return this.kv.create(rec.info.jobId, JSON.stringify(jobRecord.parse(rec)));
  }

  async get(jobId: string): Promise<Stored | undefined> {
    const e = await this.kv.get(jobId);
    if (!e || e.operation !== 'PUT') return undefined;
    const rec: unknown = e.json();
    if (!jobRecord.is(rec)) throw new Error(`lookout_jobs: invalid record ${jobId}`);
    return { rec, revision: e.revision };
  }

  /** Every job, newest first; a record that cannot be read is left out. */
  async list(): Promise<JobRecord[]> {
    const ids: string[] = [];
    ids.push(...(await kvKeys(this.jsm, JOBS)));
    const out: JobRecord[] = [];
    for (let i = 0; i < ids.length; i += LIST_CONCURRENCY) {
      const found = await Promise.all(ids.slice(i, i + LIST_CONCURRENCY).map((id) => this.get(id).catch(() => undefined)));
      for (const f of found) if (f) out.push(f.rec);
    }
    return out.sort((a, b) => b.info.createdMs - a.info.createdMs || byCodeUnits(b.info.jobId, a.info.jobId));
  }

  /**
   * Read, change, write by compare-and-set, again on a conflict. `change` returns the new
   * record, or undefined to leave it as it is (then the current one is returned). Undefined
   * when the job is gone.
   */
  async update(jobId: string, change: (rec: JobRecord) => JobRecord | undefined): Promise<JobRecord | undefined> {
    for (let attempt = 0; attempt < CAS_RETRIES; attempt++) {
      const cur = await this.get(jobId);
      if (!cur) return undefined;
      const next = change(structuredClone(cur.rec));
      if (!next) return cur.rec;
      try {
        await this.kv.update(jobId, JSON.stringify(jobRecord.parse(next)), cur.revision);
        return next;
      } catch (err) {
        // Someone wrote it meanwhile ("wrong last sequence"): judge the new revision. Anything else, after the last try, is thrown.
        if (attempt === CAS_RETRIES - 1) throw err;
      }
    }
    throw new Error(`lookout_jobs: ${jobId} keeps changing under us`);
  }

  /** Erases the job's record, every stored revision of it. */
  async erase(jobId: string): Promise<void> {
    await eraseKey(this.jsm, JOBS, jobId);
  }
}
