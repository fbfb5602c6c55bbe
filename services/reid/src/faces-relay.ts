import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  analysisMessage,
  decodeJson,
  encodeJson,
  facesMessage,
  parseStreamSubject,
  queueGroups,
  subjects,
  type AnalysisMessage,
  type FacesMessage,
} from '@lookout/contracts';
import { Counter, type Logger, type Registry } from '@lookout/service-kit';

export interface FacesRelayOptions {
  nc: NatsConnection;
  log: Logger;
  metrics: Registry;
  badMessages: Counter<'subject_kind' | 'reason'>;
}

/**
 * Turns a detector result into the merged analysis. Identity is filled by the reid issue.
 * Aligned crops stay here: they are input for embeddings, not something dashboards draw.
 */
export function toAnalysis(faces: FacesMessage, reidMs: number): AnalysisMessage {
  return {
    room: faces.room,
    stream: faces.stream,
    seq: faces.seq,
    captureMs: faces.captureMs,
    width: faces.width,
    height: faces.height,
    faces: faces.faces.map(({ crop: _crop, ...f }) => ({ ...f, identity: null })),
    ...(faces.text ? { text: faces.text } : {}),
    timings: { ...faces.timings, reid: reidMs },
  };
}

/** `faces.>` (queue group reid) → `analysis.<room>.<stream>`. */
export class FacesRelay {
  private sub: Subscription | undefined;
  private readonly relayed: Counter<'room'>;

  constructor(private readonly opts: FacesRelayOptions) {
    this.relayed = new Counter({
      name: 'lookout_reid_frames_total',
      help: 'Face results turned into analysis messages',
      labelNames: ['room'],
      registers: [opts.metrics],
    });
  }

  start(): void {
    this.sub = this.opts.nc.subscribe(subjects.all('faces'), {
      queue: queueGroups.reid,
      callback: (err, msg) => {
        if (err) return this.opts.log.error({ err }, 'faces subscription error');
        const t0 = performance.now();
        let faces: FacesMessage;
        try {
          faces = decodeJson(facesMessage, msg.data);
          const addr = parseStreamSubject(msg.subject);
          if (!addr || addr.room !== faces.room || addr.stream !== faces.stream) throw new Error(`subject ${msg.subject} does not match payload`);
        } catch (e) {
          this.opts.badMessages.inc({ subject_kind: 'faces', reason: 'invalid' });
          this.opts.log.warn({ subject: msg.subject, error: (e as Error).message }, 'dropped bad faces message');
          return;
        }
        const analysis = toAnalysis(faces, Math.round((performance.now() - t0) * 100) / 100);
        this.opts.nc.publish(subjects.analysis(faces.room, faces.stream), encodeJson(analysisMessage, analysis));
        this.relayed.inc({ room: faces.room });
      },
    });
  }

  async stop(): Promise<void> {
    if (this.sub && !this.sub.isClosed()) await this.sub.drain();
  }
}
