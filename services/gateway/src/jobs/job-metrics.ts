import { JOB_STATUSES, type JobStatus } from '@lookout/contracts';
import { Counter, Gauge, type Registry } from '@lookout/service-kit';

export type FrameOutcome = 'done' | 'failed' | 'late';
export type RetryReason = 'detector_unavailable' | 'detector_busy' | 'detector_error' | 'reid_unavailable' | 'reid_busy' | 'reid_uncommitted' | 'reid_error';

/** The job engine's metrics (docs/jobs.md). */
export class JobMetrics {
  readonly jobs: Gauge<'status'>;
  readonly frames: Counter<'outcome'>;
  readonly retries: Counter<'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.jobs = new Gauge({ name: 'lookout_gateway_jobs', help: 'Recording jobs this gateway holds (runs, queues or receives), by status', labelNames: ['status'], registers });
    this.frames = new Counter({
      name: 'lookout_gateway_job_frames_total',
      help: 'Sampled frames of recording jobs through reid, by outcome (done; late: a frame reid had already counted, after a resume; failed: the detector could not read it)',
      labelNames: ['outcome'],
      registers,
    });
    this.retries = new Counter({ name: 'lookout_gateway_job_retries_total', help: 'Detector and reid calls of a job\'s frame asked again, by reason', labelNames: ['reason'], registers });
    for (const s of JOB_STATUSES) this.jobs.set({ status: s }, 0);
  }

  /** The gauge from the jobs held now. */
  count(statuses: Iterable<JobStatus>): void {
    const n = new Map<JobStatus, number>(JOB_STATUSES.map((s) => [s, 0]));
    for (const s of statuses) n.set(s, (n.get(s) ?? 0) + 1);
    for (const [status, v] of n) this.jobs.set({ status }, v);
  }
}
