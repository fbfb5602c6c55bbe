import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { analyzeImageReply, encodeJson, FRAME_HEADERS, isId, queueGroups, subjects, type AnalyzeImageReply } from '@lookout/contracts';
import type { Counter, Logger } from '@lookout/service-kit';
import { BadFrameError } from './frame-decoder.js';
import type { FacePipeline } from './face-pipeline.js';
import type { AnalysisSettings } from './settings.js';

export interface AnalyzeResponderOptions {
  nc: NatsConnection;
  log: Logger;
  pipeline: FacePipeline;
  settingsFor: (room: string | undefined) => AnalysisSettings;
  badMessages: Counter<'subject_kind' | 'reason'>;
}

/**
 * `detector.analyze`: one JPEG in, the full analysis out (every analyzer runs: a single
 * image has no cadence). Errors are replies, never exceptions.
 */
export class AnalyzeResponder {
  private sub: Subscription | undefined;

  constructor(private readonly opts: AnalyzeResponderOptions) {}

  start(): void {
    this.sub = this.opts.nc.subscribe(subjects.detectorAnalyze(), {
      queue: queueGroups.detector,
      callback: (err, msg) => {
        if (err) return this.opts.log.error({ err }, 'analyze subscription error');
        const roomHeader = msg.headers?.get(FRAME_HEADERS.room) || undefined;
        void this.reply(msg.data, roomHeader).then((reply) => msg.respond(encodeJson(analyzeImageReply, reply)));
      },
    });
  }

  private async reply(jpeg: Uint8Array, room: string | undefined): Promise<AnalyzeImageReply> {
    if (room !== undefined && !isId(room)) return { ok: false, error: { code: 'invalid_room', message: `${FRAME_HEADERS.room}: invalid id` } };
    try {
      const r = await this.opts.pipeline.analyze(jpeg, this.opts.settingsFor(room));
      return { ok: true, width: r.width, height: r.height, faces: r.faces, ...(r.text ? { text: r.text } : {}), timings: r.timings };
    } catch (err) {
      if (err instanceof BadFrameError) {
        this.opts.badMessages.inc({ subject_kind: 'analyze', reason: err.reason });
        return { ok: false, error: { code: err.reason, message: err.message } };
      }
      this.opts.log.error({ err }, 'analyze request failed');
      return { ok: false, error: { code: 'internal', message: 'analysis failed' } };
    }
  }

  async stop(): Promise<void> {
    if (this.sub && !this.sub.isClosed()) await this.sub.drain();
  }
}
