import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { FRAME_LIMITS, LookoutError, type EnrollJob, type GalleryReply, type GalleryRequest, type ImageResult, type SubjectSummary } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import type { ReidClient } from '../clients/reid.js';
import type { UploadedFile } from '../http/multipart.js';
import { ChunkedEnroller, type EnrollTarget } from './chunked-enrollment.js';
import { EnrollJobs } from './enroll-jobs.js';
import { JobStore } from './job-store.js';
import type { ZipLimits } from './zip-reader.js';

/** A store outside reid's that may name a gallery subject and forgets it when it is deleted. */
export interface SubjectScrubber {
  eraseSubject(subjectId: string): Promise<number>;
}

/** The identify request's JSON around the image: `{"image":"…","room":"<id of ≤ 64>"}`, with room to spare. */
const IDENTIFY_ENVELOPE_BYTES = 1024;

export interface GalleryOptions {
  reid: ReidClient;
  /** `lookout_enroll_jobs`. */
  enrollJobs: KV;
  /** Erases job revisions (secure deletes). */
  jsm: JetStreamManager;
  /** The sessions, which a deleted subject is scrubbed from (`expectedSubjectId`). */
  sessions: SubjectScrubber;
  /** UPLOAD_LIMIT_BYTES: the largest multipart body. */
  uploadLimitBytes: number;
  zip: ZipLimits;
  log: Logger;
}

/**
 * The gallery as the REST API sees it: subjects (reid's `gallery.<op>`), enrollment of
 * any number of images, single-image identification, and batch enrollment jobs. Built
 * once by main.ts; failures are LookoutErrors.
 */
export class GalleryService {
  readonly uploadLimitBytes: number;
  private readonly reid: ReidClient;
  private readonly enroller: ChunkedEnroller;
  private readonly jobStore: JobStore;
  private readonly jobs: EnrollJobs;
  private readonly sessions: SubjectScrubber;
  private readonly log: Logger;

  constructor(o: GalleryOptions) {
    this.reid = o.reid;
    this.uploadLimitBytes = o.uploadLimitBytes;
    this.enroller = new ChunkedEnroller(o.reid);
    const log = o.log.child({ module: 'enroll-jobs' });
    this.jobStore = new JobStore(o.enrollJobs, o.jsm, log);
    this.sessions = o.sessions;
    this.log = o.log.child({ module: 'gallery' });
    this.jobs = new EnrollJobs({ store: this.jobStore, enroller: this.enroller, limits: o.zip, log });
  }

  /** The largest image one enrollment upload may hold (the upload limit, and what one reid request carries). */
  get imageLimitBytes(): number {
    return Math.min(this.uploadLimitBytes, this.enroller.maxImageBytes());
  }

  /**
   * Enrolls or adds the uploaded images. A failure keeps reid's per-image verdicts in
   * `details.images`, and says which images a subject created meanwhile holds.
   */
  async enroll(target: EnrollTarget, files: readonly UploadedFile[]): Promise<{ subject: SubjectSummary; images: Array<ImageResult | undefined> }> {
    if (!files.length) throw new LookoutError('invalid_request', 'images: at least one image file is required', 'images');
    files.forEach((f, i) => {
      if (!this.enroller.fits(f.size, target)) throw new LookoutError('body_too_large', `images/${i}: ${f.size} bytes do not fit one gallery request with this name and metadata`, `images/${i}`);
    });
    const r = await this.enroller.enroll(target, files.map((f) => f.data ?? Buffer.alloc(0)));
    if (!r.error && r.subject) return { subject: r.subject, images: r.images };
    const e = r.error ?? new LookoutError('internal', 'enrollment: no subject and no error');
    const partial = r.subject ? `; subject ${r.subject.subjectId} holds the images marked ok, the others were not added` : '';
    const images = r.images.filter((i) => i !== undefined);
    // reid's details stay (face_enrolled names the subject the face belongs to).
    const details = { ...e.details, ...(images.length ? { images } : {}) };
    throw new LookoutError(e.code, `${e.message}${partial}`, e.field, Object.keys(details).length ? details : undefined);
  }

  list(offset: number, limit: number): Promise<GalleryReply<'list'>> {
    return this.reid.gallery('list', { offset, limit });
  }

  get(subjectId: string): Promise<GalleryReply<'get'>> {
    return this.reid.gallery('get', { subjectId });
  }

  rename(request: GalleryRequest<'rename'>): Promise<GalleryReply<'rename'>> {
    return this.reid.gallery('rename', request);
  }

  /**
   * Deletes (erases) a subject: reid erases it from its stores, then the gateway's own
   * stores forget it (docs/gallery.md): sessions expecting it are rewritten without its id,
   * and enrollment jobs naming it are erased. Its name is read first, for the jobs.
   */
  async remove(subjectId: string): Promise<GalleryReply<'delete'>> {
    const name = await this.reid.gallery('get', { subjectId }).then(
      (r) => r.subject.name,
      () => undefined,
    );
    let reply: GalleryReply<'delete'>;
    try {
      reply = await this.reid.gallery('delete', { subjectId });
    } catch (err) {
      // Gone already (maybe an earlier delete whose scrub failed): the scrub still runs.
      if (err instanceof LookoutError && err.code === 'not_found') await this.scrub(subjectId, name);
      throw err;
    }
    await this.scrub(subjectId, name);
    return reply;
  }

  private async scrub(subjectId: string, name: string | undefined): Promise<void> {
    const sessions = await this.sessions.eraseSubject(subjectId);
    const jobs = await this.jobStore.eraseSubject(subjectId, name ? [name] : []);
    // Counts only: the subject's id and name are not logged.
    this.log.info({ sessions, jobs }, 'erased a gallery subject from sessions and enrollment jobs');
  }

  negative(subjectId: string, faceRef: string): Promise<GalleryReply<'negative'>> {
    return this.reid.gallery('negative', { subjectId, faceRef });
  }

  /**
   * The largest image `identify` can take: its request carries the image base64-encoded in
   * one NATS message (the server's max payload, less the JSON around it), and the detector
   * refuses a JPEG over FRAME_LIMITS.maxBytes anyway. Bigger bodies are refused before
   * they are read (413), instead of being buffered and encoded only to fail at NATS.
   */
  get identifyLimitBytes(): number {
    const fitsRequest = Math.floor((this.reid.maxPayload - IDENTIFY_ENVELOPE_BYTES) / 4) * 3;
    return Math.max(0, Math.min(FRAME_LIMITS.maxBytes, this.uploadLimitBytes, fitsRequest));
  }

  /** Single-image analysis: the detector's result with gallery identities. */
  identify(image: Buffer, room: string | undefined): Promise<GalleryReply<'identify'>> {
    return this.reid.gallery('identify', { image: image.toString('base64'), ...(room ? { room } : {}) });
  }

  /** Queues a batch enrollment of the ZIP at `zipPath`; the folder `dir` now belongs to the job. */
  submitJob(zipPath: string, dir: string): Promise<EnrollJob> {
    return this.jobs.submit(zipPath, dir);
  }

  async job(jobId: string): Promise<EnrollJob> {
    const job = await this.jobStore.get(jobId);
    if (!job) throw new LookoutError('not_found', `job: no job ${jobId} (jobs are kept 7 days)`, 'job');
    return job;
  }

  /** Stops the running job at its next entry (recorded as interrupted). */
  close(): Promise<void> {
    return this.jobs.close();
  }
}
