import type { FacesMessage } from '@lookout/contracts';
import type { FrameAnalysis } from '../pipeline/face-pipeline.js';

/** Where a frame belongs, whichever way it came (a live `frames.*` message or a job's request). */
export interface FrameOrigin {
  room: string;
  stream: string;
  seq: number;
  captureMs: number;
  peer?: string;
}

/**
 * The faces message of one analysed frame: what a live frame publishes on
 * `faces.<room>.<stream>` and what `detector.analyze_frame` answers, built in one place so
 * reid sees the same message either way. `queueMs`: receipt to the start of analysis.
 */
export function facesMessageOf(frame: FrameOrigin, result: FrameAnalysis, queueMs: number, worker: string): FacesMessage {
  return {
    room: frame.room,
    stream: frame.stream,
    seq: frame.seq,
    captureMs: frame.captureMs,
    width: result.width,
    height: result.height,
    // Who published the frame (its WebRTC producer's or upload socket's peer) travels with its results.
    ...(frame.peer !== undefined ? { peer: frame.peer } : {}),
    faces: result.faces,
    ...(result.text ? { text: result.text } : {}),
    timings: { ...result.timings, queue: queueMs },
    worker,
  };
}
