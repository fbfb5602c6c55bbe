import { LookoutError, rpc, streamKey, type FacesMessage, type ReidFrameResult } from '@lookout/contracts';
import { Counter, Gauge, type Registry, type Responder, type RpcServer } from '@lookout/service-kit';
import type { AnalyseOptions, FrameResult } from '../stream/frame-analyzer.js';
import { KeyedQueue } from './job-queue.js';

export interface JobFramesOptions {
  /** The live path's own function (FrameAnalyzer.analyse), with `{ job: true }`. */
  analyse: (faces: FacesMessage, opts: AnalyseOptions) => Promise<FrameResult>;
  /** Resolves once no live frame waits, or after the given ms (FrameAnalyzer.whenLiveIdle). */
  whenLiveIdle: (maxMs: number) => Promise<void>;
  metrics: Registry;
  /** Job frames handled at once by this replica. */
  concurrency: number;
  /** Job frames waiting beyond those; one more is answered `busy`. */
  queueMax: number;
  /** Longest a job frame gives way to waiting live frames, from its arrival. */
  liveWaitMs: number;
  now?: () => number;
}

/**
 * `reid.analyze_frame`: a recording job's frame, through the same function as a live one
 * (FrameAnalyzer.analyse) but never shed for age, and answered only once its state and
 * events are stored. One frame per stream at a time, a bounded number at once and waiting
 * (`busy` beyond), and live frames first: a job frame waits while the live intake has
 * frames waiting, but at most `liveWaitMs` after it arrived, so jobs move under steady
 * live load.
 */
export class JobFrames {
  private readonly queue: KeyedQueue;
  private readonly frames: Counter<'outcome'>;
  private readonly now: () => number;
  private responder: Responder | undefined;

  constructor(private readonly o: JobFramesOptions) {
    this.queue = new KeyedQueue(o.concurrency, o.queueMax);
    this.now = o.now ?? Date.now;
    const registers = [o.metrics];
    this.frames = new Counter({
      name: 'lookout_reid_job_frames_total',
      help: 'Recording-job frames answered, by outcome (committed, late, uncommitted, busy); also counted in lookout_reid_frames_total except busy',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['committed', 'late', 'uncommitted', 'busy']) this.frames.inc({ outcome }, 0);
    const queue = this.queue;
    new Gauge({
      name: 'lookout_reid_job_frames_waiting',
      help: 'Recording-job frames waiting on this replica (for a slot, their stream, or live frames)',
      registers,
      collect() {
        this.set(queue.size);
      },
    });
  }

  start(server: RpcServer): void {
    this.responder = server.serve(rpc.reid.analyzeFrame, (faces) => this.handle(faces));
  }

  async handle(faces: FacesMessage): Promise<ReidFrameResult> {
    const arrived = this.now();
    let outcome: FrameResult;
    try {
      outcome = await this.queue.run(streamKey(faces.room, faces.stream), async () => {
        await this.o.whenLiveIdle(arrived + this.o.liveWaitMs - this.now());
        return this.o.analyse(faces, { job: true });
      });
    } catch (err) {
      if (err instanceof LookoutError && err.code === 'busy') this.frames.inc({ outcome: 'busy' });
      throw err;
    }
    this.frames.inc({ outcome });
    return { seq: faces.seq, outcome };
  }

  /** Stops taking job frames and finishes those taken (each is answered). */
  async stop(): Promise<void> {
    await this.responder?.stop();
    await this.queue.drained();
  }
}
