import type { JetStreamClient } from '@nats-io/jetstream';
import { LookoutError, type SessionInfo, type SessionReport, type SessionStart, type SessionStarter } from '@lookout/contracts';
import type { Counter, Logger } from '@lookout/service-kit';
import type { ReidClient } from '../clients/reid.js';
import { CLOCK_SKEW_MS, LATE_EVENTS_MS, readStreamEvents } from './event-reader.js';
import { buildReport } from './report.js';
import type { SessionStore, StreamEnd } from './session-store.js';

export interface SessionsOptions {
  store: SessionStore;
  reid: ReidClient;
  /** Reads LOOKOUT_EVENTS, where reports are rebuilt from. */
  js: JetStreamClient;
  badMessages: Counter<'subject_kind' | 'reason'>;
  log: Logger;
}

/**
 * Proctoring/interview sessions: start, read, end, and reports rebuilt from the events
 * stream. Nothing is held in memory between requests: sessions are in KV, reports are
 * recomputed from LOOKOUT_EVENTS, so any gateway instance serves any session.
 */
export class SessionService {
  private readonly log: Logger;

  constructor(private readonly o: SessionsOptions) {
    this.log = o.log.child({ module: 'sessions' });
  }

  /** `startedBy` decides who may end it (access.ts); the routes have checked what they may ask. */
  async start(request: SessionStart, startedBy: SessionStarter): Promise<SessionInfo> {
    if (request.expectedSubjectId) await this.checkSubject(request.expectedSubjectId);
    return this.o.store.start(request, startedBy);
  }

  /**
   * A recording job's session (jobs/job-sessions.ts): its id reserved by the job, started at
   * the video's time 0 (`recording.videoBaseMs` on the capture clock), by the system.
   */
  startRecording(request: SessionStart, sessionId: string, recording: NonNullable<SessionInfo['recording']>): Promise<SessionInfo> {
    return this.o.store.start(request, { role: 'admin' }, recording.videoBaseMs, { sessionId, recording });
  }

  list(room?: string): Promise<SessionInfo[]> {
    return this.o.store.list(room);
  }

  get(sessionId: string): Promise<SessionInfo> {
    return this.o.store.require(sessionId);
  }

  /** The session, or undefined: the routes answer an unknown id and an unseeable one alike. */
  async find(sessionId: string): Promise<SessionInfo | undefined> {
    return (await this.o.store.get(sessionId))?.info;
  }

  /**
   * Ends the session; reid closes the stream's open episodes and flushes its last second.
   * `endedMs`: a recording's end on its capture clock (now for a live session).
   */
  end(sessionId: string, endedMs = Date.now()): Promise<SessionInfo> {
    return this.o.store.end(sessionId, (room, stream) => this.endStream(room, stream), endedMs);
  }

  /** The session's report from its events so far. */
  async report(info: SessionInfo): Promise<SessionReport> {
    // A recording's times are video times on a capture clock of the past while its events
    // are stored as it is analysed (faster or slower than real time): read them all.
    const until = info.endedMs !== undefined && !info.recording ? { untilMs: info.endedMs + LATE_EVENTS_MS } : {};
    const onBad = (kind: string, err: Error) => {
      this.o.badMessages.inc({ subject_kind: `event_${kind}`, reason: 'invalid' });
      this.log.warn({ kind, error: err.message }, 'skipped a bad event');
    };
    const events = await readStreamEvents(this.o.js, { room: info.room, stream: info.stream, fromMs: info.startedMs - CLOCK_SKEW_MS, ...until }, onBad);
    return buildReport(info, events, Date.now());
  }

  /** The report of an ended session; `session_running` while it runs. */
  finalReport(info: SessionInfo): Promise<SessionReport> {
    if (info.status !== 'ended') throw new LookoutError('session_running', `session: ${info.sessionId} is still running; GET /sessions/${info.sessionId}/live gives the summary so far`, 'session');
    return this.report(info);
  }

  /**
   * A mistyped expected subject would flag every frame as "replaced": refuse one the gallery
   * does not know. With reid unreachable the session still starts (it cannot be checked, and
   * the stream has nobody to analyse it yet either).
   */
  async checkSubject(subjectId: string): Promise<void> {
    try {
      await this.o.reid.gallery('get', { subjectId });
    } catch (err) {
      if (err instanceof LookoutError && err.code === 'not_found') throw new LookoutError('unknown_subject', `expectedSubjectId: no subject ${subjectId} in the gallery`, 'expectedSubjectId');
      this.log.warn({ subjectId, error: (err as Error).message }, 'could not check the expected subject');
    }
  }

  /** Asks reid to close the stream's episodes; reid being down is reported, not fatal. */
  private async endStream(room: string, stream: string): Promise<StreamEnd> {
    try {
      const r = await this.o.reid.endStream({ room, stream, reason: 'session ended' });
      return { ok: true, closedEpisodes: r.closedEpisodes };
    } catch (err) {
      const e = err instanceof LookoutError ? err : new LookoutError('internal', (err as Error).message);
      this.log.warn({ room, stream, error: e.message }, 'reid did not end the stream');
      return { ok: false, error: e.code === 'unavailable' ? `reid unavailable: ${e.message}` : `${e.code}: ${e.message}` };
    }
  }
}
