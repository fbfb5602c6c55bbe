import { LookoutError, rpc, type AnalyzeFrameRequest, type FacesMessage } from '@lookout/contracts';
import { Counter, Gauge, type Logger, type Registry, type Responder, type RpcServer } from '@lookout/service-kit';
import { BadFrameError, checkJpeg } from '../pipeline/frame-decoder.js';
import type { FacePipeline } from '../pipeline/face-pipeline.js';
import type { AnalysisSettings } from '../settings/settings.js';
import { facesMessageOf } from './faces-message.js';
import type { FrameWorker } from './frame-worker.js';

export type JobFrameOutcome = 'ok' | 'busy' | 'bad_frame' | 'error';
const OUTCOMES: readonly JobFrameOutcome[] = ['ok', 'busy', 'bad_frame', 'error'];

export interface JobFramesOptions {
  worker: FrameWorker;
  pipeline: FacePipeline;
  settingsFor: (room: string) => AnalysisSettings;
  log: Logger;
  metrics: Registry;
  badMessages: Counter<'subject_kind' | 'reason'>;
  workerId: string;
  now?: () => number;
}

/**
 * `detector.analyze_frame`: one sampled frame of a recording job (docs/detector.md,
 * "Recording-job frames"). It is analysed as a live frame of its room and stream (the
 * room's settings, the stream's cadences keyed on its capture time) and answered with the
 * faces message a live frame publishes; nothing is published on `faces.*`, since the
 * gateway's job runner hands the reply to reid itself. It waits in the FrameWorker's loop
 * behind live frames; a full job queue answers `busy` at once.
 */
export function serveJobFrames(server: RpcServer, o: JobFramesOptions): Responder {
  const now = o.now ?? Date.now;
  const registers = [o.metrics];
  const served = new Counter({
    name: 'lookout_detector_job_frames_total',
    help: 'Recording-job frames (detector.analyze_frame) by outcome: ok, busy (the job queue was full; the caller offers it again), bad_frame, error',
    labelNames: ['outcome'],
    registers,
  });
  for (const outcome of OUTCOMES) served.inc({ outcome }, 0);
  const worker = o.worker;
  new Gauge({
    name: 'lookout_detector_job_frames_waiting',
    help: 'Recording-job frames waiting behind live frames on this replica (at most DETECTOR_JOB_QUEUE_MAX)',
    registers,
    collect() {
      this.set(worker.jobsWaiting);
    },
  });

  const analyze = async (request: AnalyzeFrameRequest, jpeg: Uint8Array): Promise<FacesMessage> => {
    // The cheap checks first: a payload that is no JPEG never takes a place in the queue.
    checkJpeg(jpeg);
    const receivedMs = now();
    return o.worker.runJob(request.job, async () => {
      const start = now();
      const result = await o.pipeline.analyze(jpeg, o.settingsFor(request.room), { key: `${request.room}.${request.stream}`, captureMs: request.captureMs });
      return facesMessageOf(request, result, start - receivedMs, o.workerId);
    });
  };

  return server.serve(rpc.detector.analyzeFrame, async (request, { payload }) => {
    try {
      const message = await analyze(request, payload);
      served.inc({ outcome: 'ok' });
      return message;
    } catch (err) {
      served.inc({ outcome: outcomeOf(err) });
      if (err instanceof BadFrameError) {
        o.badMessages.inc({ subject_kind: 'analyze_frame', reason: err.reason });
        o.log.warn({ job: request.job, seq: request.seq, detail: err.reason, error: err.message }, 'bad job frame');
      } else if (!(err instanceof LookoutError)) {
        o.log.error({ err, job: request.job, seq: request.seq }, 'job frame analysis failed');
      }
      throw err;
    }
  });
}

function outcomeOf(err: unknown): JobFrameOutcome {
  if (err instanceof BadFrameError) return 'bad_frame';
  if (err instanceof LookoutError && err.code === 'busy') return 'busy';
  return 'error';
}
