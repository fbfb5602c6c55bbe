import { LookoutError, type JobInfo } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import type { SessionService } from '../sessions/service.js';
import type { SessionOptions } from './job-ledger.js';

/**
 * A job's session, as a live stream's: started once the video is probed (so reid tags the
 * job's events with it from the first frame), on the capture clock of the video (time 0 =
 * `videoBaseMs`), and ended where the analysis ended.
 */
export class JobSessions {
  constructor(
    private readonly sessions: SessionService,
    private readonly log: Logger,
  ) {}

  /** Starts the session the job reserved; any failure is the job's (LookoutError). */
  async start(info: JobInfo, opts: SessionOptions): Promise<void> {
    const { jobId, videoBaseMs, durationMs } = info;
    if (videoBaseMs === undefined) throw new Error(`job ${jobId}: no video base time`);
    try {
      const request = { room: info.room, stream: info.stream, ...opts, metadata: { jobId, name: info.name } };
      await this.sessions.startRecording(request, info.sessionId, { jobId, videoBaseMs, ...(durationMs !== undefined ? { durationMs } : {}) });
    } catch (err) {
      throw err instanceof LookoutError ? err : new LookoutError('internal', `session: ${(err as Error).message}`);
    }
  }

  /** Ends the session if it was started: at the video's end when done, else after the last frame analysed. */
  async end(info: JobInfo): Promise<void> {
    if (info.videoBaseMs === undefined) return;
    const at = info.status === 'done' && info.durationMs !== undefined ? info.durationMs : Math.round((info.framesDone * 1000) / info.fps);
    try {
      await this.sessions.end(info.sessionId, info.videoBaseMs + at);
    } catch (err) {
      if (!(err instanceof LookoutError && err.code === 'not_found')) this.log.warn({ jobId: info.jobId, error: (err as Error).message }, 'the job\'s session was not ended');
    }
  }
}
