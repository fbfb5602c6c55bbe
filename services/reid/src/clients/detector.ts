import type { NatsConnection } from '@nats-io/transport-node';
import { rpc, type AnalyzeImageResult } from '@lookout/contracts';
import { call } from '@lookout/service-kit';

/**
 * reid's client of the detector: `detector.analyze` for one JPEG (enrollment and
 * single-image identification). Throws LookoutError: `unavailable` when no detector
 * answered in time, or the detector's own refusal (`not_jpeg`, `corrupt`, …).
 */
export class DetectorClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {}

  /** `room`: analyse with that room's analysis config. */
  analyze(jpeg: Uint8Array, room?: string): Promise<AnalyzeImageResult> {
    return call(this.nc, rpc.detector.analyze, room ? { room } : {}, { payload: jpeg, timeoutMs: this.timeoutMs });
  }
}
