import fs from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { LookoutError, type EnrollJob } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import type { ChunkedEnroller, EnrollTarget } from './chunked-enrollment.js';
import type { JobError, JobProgress, JobResult, JobStore } from './job-store.js';
import { ZipReader, type ZipImage, type ZipLimits } from './zip-reader.js';

/** Jobs waiting or running on one gateway; more are refused (each holds an upload on disk). */
const MAX_PENDING = 4;
/** Images per reid request in a job: small, so progress moves every second or so (reid takes ~100 ms an image). */
const IMAGES_PER_CALL = 5;

export interface EnrollJobsOptions {
  store: JobStore;
  enroller: ChunkedEnroller;
  limits: ZipLimits;
  log: Logger;
}

interface Pending {
  progress: JobProgress;
  zipPath: string;
  dir: string;
}

class Interrupted extends Error {}

/**
 * Batch enrollment from a ZIP, one job at a time per gateway. Pass 1 checks every entry
 * (limits, names, image bytes) before anything is enrolled, so a ZIP that fails as a whole
 * leaves nothing behind; pass 2 enrolls person by person through reid, re-reading each
 * image from the archive under the same limits.
 */
export class EnrollJobs {
  private readonly pending = new Set<Pending>();
  private tail: Promise<void> = Promise.resolve();
  private closing = false;

  constructor(private readonly o: EnrollJobsOptions) {}

  /** Records a new job and queues it; the upload (in `dir`) now belongs to the job. */
  async submit(zipPath: string, dir: string): Promise<EnrollJob> {
    if (this.closing) throw new LookoutError('unavailable', 'gateway: shutting down');
    if (this.pending.size >= MAX_PENDING) throw new LookoutError('busy', `gallery: ${MAX_PENDING} enrollment jobs are already waiting on this gateway; try again later`);
    const now = Date.now();
    const job: EnrollJob = { jobId: `job_${randomBytes(9).toString('base64url')}`, status: 'running', total: 0, processed: 0, results: [], createdMs: now, updatedMs: now };
    await this.o.store.put(job);
    const p: Pending = { progress: this.o.store.progress(job), zipPath, dir };
    this.pending.add(p);
    this.tail = this.tail.then(() => this.run(p));
    return { ...job };
  }

  /** Stops at the next entry; unfinished jobs are recorded as failed (interrupted). */
  async close(): Promise<void> {
    this.closing = true;
    await this.tail;
  }

  private async run(p: Pending): Promise<void> {
    const log = this.o.log.child({ jobId: p.progress.job.jobId });
    let error: JobError | undefined;
    try {
      if (this.closing) throw new Interrupted();
      await this.process(p.progress, p.zipPath);
    } catch (err) {
      error = failure(err);
      if (error.code === 'internal') log.error({ err }, 'enroll job failed');
    } finally {
      await p.progress.finish(error);
      await fs.rm(p.dir, { recursive: true, force: true }).catch(() => undefined);
      this.pending.delete(p);
    }
    // The code only: messages may quote entry names, which are people's names (docs/gallery.md).
    log.info({ status: p.progress.job.status, total: p.progress.job.total, ...(error ? { error: error.code } : {}) }, 'enroll job finished');
  }

  private async process(progress: JobProgress, zipPath: string): Promise<void> {
    const zip = await ZipReader.open(zipPath, this.o.limits);
    const reported = new Set<ZipImage>();
    let images: ZipImage[] = [];
    try {
      const scan = await zip.scan();
      images = scan.images;
      progress.setTotal(scan.images.length + scan.rejected.length);
      for (const r of scan.rejected) progress.add({ entry: r.entry, ...(r.person ? { person: r.person } : {}), ok: false, error: { code: r.code, message: r.message } });
      for (const person of groupByPerson(scan.images).values()) await this.enrollPerson(progress, zip, person, reported);
    } catch (err) {
      // Whatever the job did not reach still gets a result saying so.
      const why = failure(err);
      for (const img of images) if (!reported.has(img)) progress.add({ entry: img.entry, person: img.person, ok: false, error: { code: 'not_processed', message: `not enrolled: ${why.message}` } });
      throw err;
    } finally {
      zip.close();
    }
  }

  /** One person's images in requests that fit reid's payload; the first usable one creates the subject. */
  private async enrollPerson(progress: JobProgress, zip: ZipReader, images: ZipImage[], reported: Set<ZipImage>): Promise<void> {
    const name = images[0]!.person;
    const report = (img: ZipImage, r: JobResult) => {
      reported.add(img);
      progress.add(r);
    };
    let target: EnrollTarget = { mode: 'enroll', name, metadata: { enrollJob: progress.job.jobId } };
    const fitting = images.filter((img) => {
      if (this.o.enroller.fits(img.bytes, target)) return true;
      report(img, { entry: img.entry, person: name, ok: false, error: { code: 'image_too_large', message: `${img.bytes} bytes: larger than one gallery request can carry` } });
      return false;
    });
    for (const chunk of this.o.enroller.pack(target, fitting.map((i) => i.bytes), IMAGES_PER_CALL)) {
      if (this.closing) throw new Interrupted();
      const batch = chunk.map((i) => fitting[i]!);
      const data = await Promise.all(batch.map((img) => zip.read(img)));
      const r = await this.o.enroller.enroll(target, data);
      batch.forEach((img, i) => {
        const v = r.images[i];
        if (v?.ok && r.subject) report(img, { entry: img.entry, person: name, ok: true, subjectId: r.subject.subjectId });
        else report(img, { entry: img.entry, person: name, ok: false, error: v?.error ?? { code: r.error?.code ?? 'internal', message: r.error?.message ?? 'reid gave no verdict on this image' } });
      });
      if (r.subject) target = { mode: 'add', subjectId: r.subject.subjectId };
      // A person none of whose images is usable, or who is already another subject, is
      // reported per image; the job goes on with the next person.
      if (r.error && r.error.code !== 'no_usable_image' && r.error.code !== 'face_enrolled') throw r.error;
    }
  }
}

function groupByPerson(images: readonly ZipImage[]): Map<string, ZipImage[]> {
  const byPerson = new Map<string, ZipImage[]>();
  for (const img of images) {
    const list = byPerson.get(img.key);
    if (list) list.push(img);
    else byPerson.set(img.key, [img]);
  }
  return byPerson;
}

function failure(err: unknown): JobError {
  if (err instanceof Interrupted) return { code: 'interrupted', message: 'the gateway shut down before the job finished; upload the ZIP again' };
  if (err instanceof LookoutError) return { code: err.code, message: err.message };
  return { code: 'internal', message: `enroll job: ${(err as Error).message}` };
}
