import type { Msg, NatsConnection } from '@nats-io/transport-node';
import {
  analysisMessage,
  decodeFacesMessage,
  encodeJson,
  resolveRules,
  streamKey,
  subjects,
  type AnalysisMessage,
  type FacesMessage,
  type RoomAnalysisConfig,
  type StreamSession,
} from '@lookout/contracts';
import { Counter, Histogram, type KvMirror, type Logger, type Registry } from '@lookout/service-kit';
import type { GalleryIndex } from '../gallery/gallery-index.js';
import type { StreamEvents } from './stream-events.js';
import type { StreamStateStore } from './stream-state-store.js';
import { advance, isLate, trackerFor, type FrameInput, type FrameOutcome } from './core/advance.js';
import type { TrackerConfig } from './core/tracker.js';
import type { ObservedFace } from './core/types.js';
import { toAnalysis } from './analysis-message.js';
import type { FaceObserver, FrameFaces } from './face-observer.js';
import { FrameIntake } from './frame-intake.js';

export interface FrameAnalyzerOptions {
  nc: NatsConnection;
  log: Logger;
  metrics: Registry;
  badMessages: Counter<'subject_kind' | 'reason'>;
  observer: FaceObserver;
  gallery: GalleryIndex;
  sessions: KvMirror<StreamSession>;
  rooms: KvMirror<RoomAnalysisConfig>;
  state: StreamStateStore;
  events: StreamEvents;
  tracker: TrackerConfig;
  casRetries: number;
  /** Load shedding (frame-intake.ts): oldest capture time worth handling, messages at once. */
  maxFrameAgeMs: number;
  concurrency: number;
}

/** What a frame came to in its stream's state (the reply of `reid.analyze_frame`). */
export type FrameResult = 'committed' | 'late' | 'uncommitted';

/** A live frame (from `faces.>`, may be shed) or a recording job's (asked for, never shed). */
export interface AnalyseOptions {
  job?: boolean;
}

/** What one frame came to: its faces as observed, and the state's outcome unless late or uncommitted. */
interface Committed {
  input: FrameInput;
  observed: ObservedFace[];
  outcome: FrameOutcome | undefined;
  result: FrameResult;
}

/**
 * `faces.>` (queue group reid, load shed by FrameIntake) → embeddings where the stream
 * state asks for them → gallery → per-stream state → the merged
 * `analysis.<room>.<stream>`, plus alerts, recognitions and metrics. Any replica may get
 * any frame of any stream; the stream's state is read, advanced and written back by
 * compare-and-set, retried on a conflict. Which faces to embed is decided from the state
 * that was read, so a retry decides again against the state that won. A frame older than
 * the state's last one is published with its own gallery matches but never changes the state.
 */
export class FrameAnalyzer {
  private readonly intake: FrameIntake;
  private readonly frames: Counter<'outcome'>;
  private readonly conflicts: Counter;
  private readonly reidMs: Histogram;

  constructor(private readonly o: FrameAnalyzerOptions) {
    const registers = [o.metrics];
    this.frames = new Counter({ name: 'lookout_reid_frames_total', help: 'Frames handled by reid, by outcome (committed, late, uncommitted)', labelNames: ['outcome'], registers });
    this.conflicts = new Counter({ name: 'lookout_reid_state_conflicts_total', help: 'Stream-state writes that lost a compare-and-set race and were retried', registers });
    this.reidMs = new Histogram({ name: 'lookout_reid_frame_ms', help: 'Time reid spends on one frame (ms)', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500], registers });
    this.intake = new FrameIntake({
      nc: o.nc,
      log: o.log,
      metrics: o.metrics,
      maxFrameAgeMs: o.maxFrameAgeMs,
      concurrency: o.concurrency,
      parse: (msg) => this.parse(msg),
      handle: (faces) => this.handle(faces),
    });
  }

  start(): void {
    this.intake.start();
  }

  private parse(msg: Msg): FacesMessage | undefined {
    try {
      return decodeFacesMessage(msg.subject, msg.data);
    } catch (e) {
      this.o.badMessages.inc({ subject_kind: 'faces', reason: 'invalid' });
      this.o.log.warn({ subject: msg.subject, error: (e as Error).message }, 'dropped bad faces message');
      return undefined;
    }
  }

  /** Resolves once no live message waits in the intake, or after maxMs (recording-job frames give way). */
  whenLiveIdle(maxMs: number): Promise<void> {
    return this.intake.whenIdle(maxMs);
  }

  private async handle(faces: FacesMessage): Promise<void> {
    await this.analyse(faces);
  }

  /**
   * One frame, live or of a recording job: decode → commit → `analysis.<room>.<stream>` →
   * events. A live frame's events go out after its state write, by the replica whose write
   * won. A job frame's go out before the write (see commit), so when this resolves its
   * state and its events are both stored, and a reid killed in between loses neither: the
   * job asks again, and the same frame against the same state gives the same events, which
   * LOOKOUT_EVENTS stores once (Nats-Msg-Id).
   */
  async analyse(faces: FacesMessage, opts: AnalyseOptions = {}): Promise<FrameResult> {
    const t0 = performance.now();
    const frame = await this.o.observer.decode(faces);
    const { input, observed, outcome, result } = await this.commit(streamKey(faces.room, faces.stream), frame, opts.job === true);
    const reidMs = Math.round((performance.now() - t0) * 100) / 100;
    const analysis: AnalysisMessage = toAnalysis(faces, observed, outcome, input.sessionId, reidMs);
    this.o.nc.publish(subjects.analysis(faces.room, faces.stream), encodeJson(analysisMessage, analysis));
    this.reidMs.observe(reidMs);
    if (outcome) this.frames.inc({ outcome: 'committed' });
    if (outcome && !opts.job) await this.o.events.emit(faces, input, outcome, observed);
    return result;
  }

  private frameInput(msg: FacesMessage, faces: ObservedFace[], job: boolean): FrameInput {
    const session = this.o.sessions.get(streamKey(msg.room, msg.stream));
    const room = this.o.rooms.get(msg.room);
    const expectedId = session?.expectedSubjectId;
    const expectedName = expectedId ? this.o.gallery.nameOf(expectedId) : undefined;
    return {
      room: msg.room,
      stream: msg.stream,
      seq: msg.seq,
      captureMs: msg.captureMs,
      faces,
      ...(msg.text ? { text: msg.text } : {}),
      sessionId: session?.sessionId ?? null,
      expected: expectedId ? { subjectId: expectedId, name: expectedName ?? expectedId } : null,
      galleryEmpty: this.o.gallery.isEmpty,
      rules: resolveRules(room?.rules, session?.rules),
      tracker: this.o.tracker,
      // Capture-to-analysis latency is a live measure; a recording's capture times are
      // video times (long past), and its metrics must not depend on how fast it was fed.
      latencyMs: job ? null : Math.max(0, Date.now() - msg.captureMs),
    };
  }

  /**
   * Reads the state, embeds what it asks for, advances and writes it back; on a lost race
   * does it again against the winner's state (embeddings already made are reused). A late
   * frame, or one that lost every race, gets no outcome. A job frame's events are stored
   * before its write: a job sends its frames one at a time, so a race here is with the
   * same frame on another replica (a retry), which computes the same events.
   */
  private async commit(key: string, frame: FrameFaces, job: boolean): Promise<Committed> {
    let last: Committed | undefined;
    for (let attempt = 0; attempt < this.o.casRetries; attempt++) {
      const { state, revision } = await this.o.state.read(key);
      const input = this.frameInput(frame.msg, [], job);
      if (state && isLate(state, input.seq, input.captureMs)) {
        this.frames.inc({ outcome: 'late' });
        const observed = await this.o.observer.observeAll(frame);
        return { input: { ...input, faces: observed }, observed, outcome: undefined, result: 'late' };
      }
      const observed = await this.o.observer.observe(frame, trackerFor(state, input.sessionId));
      const full = { ...input, faces: observed };
      const outcome = advance(state, full);
      if (job) await this.o.events.emit(frame.msg, full, outcome, observed);
      if (await this.o.state.write(key, outcome.state, revision)) return { input: full, observed, outcome, result: 'committed' };
      this.conflicts.inc();
      last = { input: full, observed, outcome: undefined, result: 'uncommitted' };
    }
    this.frames.inc({ outcome: 'uncommitted' });
    this.o.log.warn({ key, seq: frame.msg.seq }, 'stream state kept changing; frame published without state');
    return last!;
  }

  async stop(): Promise<void> {
    await this.intake.stop();
  }
}
