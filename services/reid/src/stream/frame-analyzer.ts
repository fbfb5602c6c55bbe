import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  analysisMessage,
  decodeJson,
  encodeJson,
  facesMessage,
  parseStreamSubject,
  queueGroups,
  resolveRules,
  streamKey,
  subjects,
  type AnalysisMessage,
  type FacesMessage,
  type RoomAnalysisConfig,
  type StreamSession,
} from '@lookout/contracts';
import { Counter, Histogram, type KvMirror, type Logger, type Registry } from '@lookout/service-kit';
import { BadCropError, FaceEmbedder } from '../embedding/embedder.js';
import type { GalleryIndex } from '../gallery/gallery-index.js';
import type { StreamEvents } from './stream-events.js';
import type { StreamStateStore } from './stream-state-store.js';
import { advance, isLate, type FrameInput, type FrameOutcome } from './core/advance.js';
import type { TrackerConfig } from './core/tracker.js';
import type { ObservedFace } from './core/types.js';
import { toAnalysis } from './analysis-message.js';

export interface FrameAnalyzerOptions {
  nc: NatsConnection;
  log: Logger;
  metrics: Registry;
  badMessages: Counter<'subject_kind' | 'reason'>;
  embedder: FaceEmbedder;
  gallery: GalleryIndex;
  sessions: KvMirror<StreamSession>;
  rooms: KvMirror<RoomAnalysisConfig>;
  state: StreamStateStore;
  events: StreamEvents;
  tracker: TrackerConfig;
  casRetries: number;
}

/**
 * `faces.>` (queue group reid) → embeddings → gallery → per-stream state → the merged
 * `analysis.<room>.<stream>`, plus alerts, recognitions and metrics. Any replica may get
 * any frame of any stream; the stream's state is read, advanced and written back by
 * compare-and-set, retried on a conflict. A frame older than the state's last one is
 * published with its own gallery matches but never changes the state.
 */
export class FrameAnalyzer {
  private sub: Subscription | undefined;
  private readonly frames: Counter<'outcome'>;
  private readonly conflicts: Counter;
  private readonly reidMs: Histogram;
  /** Per stream, the frame being handled: frames of one stream go through in order here. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly o: FrameAnalyzerOptions) {
    const registers = [o.metrics];
    this.frames = new Counter({ name: 'lookout_reid_frames_total', help: 'Frames handled by reid, by outcome (committed, late, uncommitted)', labelNames: ['outcome'], registers });
    this.conflicts = new Counter({ name: 'lookout_reid_state_conflicts_total', help: 'Stream-state writes that lost a compare-and-set race and were retried', registers });
    this.reidMs = new Histogram({ name: 'lookout_reid_frame_ms', help: 'Time reid spends on one frame (ms)', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500], registers });
  }

  start(): void {
    this.sub = this.o.nc.subscribe(subjects.all('faces'), {
      queue: queueGroups.reid,
      callback: (err, msg) => {
        if (err) return this.o.log.error({ err }, 'faces subscription error');
        const prev = this.chains.get(msg.subject) ?? Promise.resolve();
        const p = prev.then(() => this.handle(msg)).catch((e: unknown) => this.o.log.error({ err: e, subject: msg.subject }, 'frame failed'));
        this.chains.set(msg.subject, p);
        void p.finally(() => {
          if (this.chains.get(msg.subject) === p) this.chains.delete(msg.subject);
        });
      },
    });
  }

  private parse(msg: Msg): FacesMessage | undefined {
    try {
      const faces = decodeJson(facesMessage, msg.data);
      const addr = parseStreamSubject(msg.subject);
      if (!addr || addr.room !== faces.room || addr.stream !== faces.stream) throw new Error(`subject ${msg.subject} does not match payload`);
      return faces;
    } catch (e) {
      this.o.badMessages.inc({ subject_kind: 'faces', reason: 'invalid' });
      this.o.log.warn({ subject: msg.subject, error: (e as Error).message }, 'dropped bad faces message');
      return undefined;
    }
  }

  private async handle(msg: Msg): Promise<void> {
    const t0 = performance.now();
    const faces = this.parse(msg);
    if (!faces) return;
    const observed = await this.observe(faces);
    const input = this.frameInput(faces, observed);
    const outcome = await this.commit(streamKey(faces.room, faces.stream), input);
    const reidMs = Math.round((performance.now() - t0) * 100) / 100;
    const analysis: AnalysisMessage = toAnalysis(faces, observed, outcome, input.sessionId, reidMs);
    this.o.nc.publish(subjects.analysis(faces.room, faces.stream), encodeJson(analysisMessage, analysis));
    this.reidMs.observe(reidMs);
    this.frames.inc({ outcome: outcome ? 'committed' : 'late' });
    if (outcome) await this.o.events.emit(faces, input, outcome, observed);
  }

  /** Embeds every face that has an aligned crop and searches the gallery. */
  private async observe(msg: FacesMessage): Promise<ObservedFace[]> {
    const crops = await Promise.all(
      msg.faces.map((f) =>
        f.crop
          ? FaceEmbedder.decode(Buffer.from(f.crop.data, 'base64')).catch((e: unknown) => {
              if (!(e instanceof BadCropError)) throw e;
              this.o.badMessages.inc({ subject_kind: 'faces', reason: 'bad_crop' });
              return null;
            })
          : null,
      ),
    );
    const present = crops.filter((c) => c !== null);
    const vectors = await this.o.embedder.embed(present);
    let next = 0;
    return msg.faces.map(({ crop: _crop, ...face }, i) => {
      const embedding = crops[i] ? vectors[next++]! : null;
      return { face, embedding, match: embedding ? this.o.gallery.match(embedding) : null };
    });
  }

  private frameInput(msg: FacesMessage, faces: ObservedFace[]): FrameInput {
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
      latencyMs: Math.max(0, Date.now() - msg.captureMs),
    };
  }

  /** Advances and writes the stream state; undefined for a late frame or a lost race. */
  private async commit(key: string, input: FrameInput): Promise<FrameOutcome | undefined> {
    for (let attempt = 0; attempt < this.o.casRetries; attempt++) {
      const { state, revision } = await this.o.state.read(key);
      if (state && isLate(state, input.seq, input.captureMs)) return undefined;
      const outcome = advance(state, input);
      if (await this.o.state.write(key, outcome.state, revision)) return outcome;
      this.conflicts.inc();
    }
    this.frames.inc({ outcome: 'uncommitted' });
    this.o.log.warn({ key, seq: input.seq }, 'stream state kept changing; frame published without state');
    return undefined;
  }

  async stop(): Promise<void> {
    if (this.sub && !this.sub.isClosed()) await this.sub.drain();
    await Promise.allSettled([...this.chains.values()]);
  }
}
