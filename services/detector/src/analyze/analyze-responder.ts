import { rpc } from '@lookout/contracts';
import type { Counter, Responder, RpcServer } from '@lookout/service-kit';
import type { FacePipeline } from '../pipeline/face-pipeline.js';
import { BadFrameError } from '../pipeline/frame-decoder.js';
import type { AnalysisSettings } from '../settings/settings.js';

export interface AnalyzeOptions {
  pipeline: FacePipeline;
  /** The settings of the request's room, or the deployment's defaults without one. */
  settingsFor: (room: string | undefined) => AnalysisSettings;
  badMessages: Counter<'subject_kind' | 'reason'>;
}

/**
 * `detector.analyze`: one JPEG in (the payload), the full analysis out; every analyzer
 * runs, since a single image has no cadence. The request (`{ room? }`) is validated by the
 * RpcServer; a bad image is a BadFrameError, answered with its reason as the code and
 * counted with the frames that failed the same way.
 */
export function serveAnalyze(server: RpcServer, o: AnalyzeOptions): Responder {
  return server.serve(rpc.detector.analyze, async (request, { payload }) => {
    try {
      const r = await o.pipeline.analyze(payload, o.settingsFor(request.room));
      return { width: r.width, height: r.height, faces: r.faces, ...(r.text ? { text: r.text } : {}), timings: r.timings };
    } catch (err) {
      if (err instanceof BadFrameError) o.badMessages.inc({ subject_kind: 'analyze', reason: err.reason });
      throw err;
    }
  });
}
