import type { DetectedFace, StageTimings } from '@lookout/contracts';
import { decodeFrame } from './frame-decoder.js';
import { DETECTOR_INPUT, type FaceDetector } from './face-detector.js';

export interface FrameAnalysis {
  width: number;
  height: number;
  faces: DetectedFace[];
  timings: StageTimings;
}

/**
 * Everything the detector does to one JPEG, independent of how the JPEG arrived
 * (NATS frame, request/reply, command line).
 */
export class FrameAnalyzer {
  constructor(private readonly detector: FaceDetector) {}

  async analyze(jpeg: Uint8Array): Promise<FrameAnalysis> {
    const t0 = performance.now();
    const frame = await decodeFrame(jpeg, DETECTOR_INPUT.width, DETECTOR_INPUT.height);
    const t1 = performance.now();
    const faces = await this.detector.detect(frame.rgb, frame.width, frame.height);
    const t2 = performance.now();
    return {
      width: frame.width,
      height: frame.height,
      faces,
      timings: { decode: ms(t1 - t0), detect: ms(t2 - t1) },
    };
  }
}

const ms = (v: number) => Math.round(v * 100) / 100;
