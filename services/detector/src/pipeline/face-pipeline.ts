import sharp from 'sharp';
import { cropThumb } from '@lookout/service-kit';
import type { DetectedFace, Rect, StageTimings, TextInFrame } from '@lookout/contracts';
import { ALIGNED_SIZE, fivePoints, similarityFromTemplate } from './alignment.js';
import type { CadencedAnalyzer, CadenceTracker } from './cadence.js';
import type { FaceDetector } from '../models/face-detector.js';
import { decodeFrame } from './frame-decoder.js';
import type { FaceContext, FaceModel } from '../analyzers/face-model.js';
import type { EyeState } from '../analyzers/eyes.js';
import type { ExpressionResult } from '../analyzers/expression.js';
import type { HeadPose } from '../analyzers/pose.js';
import { faceShape, poseStillValid, type PoseReuse, type PoseRun } from './pose-reuse.js';
import { sampleRgbImage, type RgbImage } from './sampler.js';
import { needsLandmarks, type AnalysisSettings } from '../settings/settings.js';
import { SmallFaceDetector } from './small-faces.js';

export interface TextAnalyzer {
  detect(rgb: Uint8Array, width: number, height: number): Promise<{ regions: Array<{ box: [number, number, number, number]; score: number }>; score: number }>;
}

export interface AnalyzerModels {
  landmarks?: FaceModel<Float32Array>;
  pose?: FaceModel<HeadPose>;
  eyes?: FaceModel<EyeState | undefined>;
  expression?: FaceModel<ExpressionResult>;
  liveness?: FaceModel<number>;
  text?: TextAnalyzer;
}

export interface FrameAnalysis {
  width: number;
  height: number;
  faces: DetectedFace[];
  text?: TextInFrame;
  timings: StageTimings;
}

/** Which stream a frame belongs to, for cadences; absent for one-off images (everything runs). */
export interface StreamFrame {
  key: string;
  captureMs: number;
  /**
   * Other live frames wait on this replica behind this one. A slow analyzer that is due
   * but less than a whole interval late then waits for a frame with slack (see slowSlot).
   */
  backlog?: boolean;
}

type Carried<T> = { value: T; ageMs: number } | undefined;

const SLOW_CANDIDATES: readonly CadencedAnalyzer[] = ['pose', 'eyes', 'expression', 'liveness', 'text'];

/** A stream frame plus whether this analyzer may run on it (see slowSlot). */
type ScheduledFrame = StreamFrame & { mayRun: boolean };

/**
 * Everything the detector does to one JPEG, whatever brought it (NATS frame, request/reply,
 * command line): decode, detect, then each enabled analyzer on its cadence.
 */
export class FacePipeline {
  constructor(
    private readonly detector: FaceDetector,
    private readonly models: AnalyzerModels,
    private readonly cadence: CadenceTracker,
    private readonly maxSide: number,
    /** Carry a still face's pose on stream frames (undefined or maxAgeMs 0: pose runs on every frame). */
    private readonly poseReuse?: PoseReuse,
  ) {
    this.faceFinder = new SmallFaceDetector(detector);
  }

  private readonly faceFinder: SmallFaceDetector;

  private tail: Promise<unknown> = Promise.resolve();

  /** One frame at a time: the models' threads are sized for that, and ordering stays simple. */
  analyze(jpeg: Uint8Array, settings: AnalysisSettings, stream?: StreamFrame): Promise<FrameAnalysis> {
    const run = this.tail.then(() => this.analyzeNow(jpeg, settings, stream));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async analyzeNow(jpeg: Uint8Array, settings: AnalysisSettings, stream?: StreamFrame): Promise<FrameAnalysis> {
    const timings: StageTimings = {};
    const time = async <T>(stage: string, fn: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      try {
        return await fn();
      } finally {
        timings[stage] = Math.round((performance.now() - t) * 100) / 100;
      }
    };
    const frame = await time('decode', () => decodeFrame(jpeg, this.maxSide));
    const { image, scale } = frame;
    // `detect` is all of face detection; `tiles` the part of it spent on tiles, when any ran.
    const found = await time('detect', () => this.faceFinder.detect(image, settings.minFaceSize * scale, settings.detection, scale, stream));
    if (found.tiles > 0) timings.tiles = found.tilesMs;
    const detected = found.faces;
    const faces: FaceContext[] = detected.map((d) => ({ box: d.box }));
    const m = this.models;
    if (m.landmarks && needsLandmarks(settings)) {
      const points = await time('landmarks', () => m.landmarks!.run(image, faces));
      faces.forEach((f, i) => (f.landmarks = points[i]));
    }
    const slot = stream && this.slowSlot(settings, stream);
    const run = <T>(name: 'pose' | 'eyes' | 'expression' | 'liveness', model: FaceModel<T> | undefined) =>
      this.runScheduled(name, model, image, faces, settings, stream && { ...stream, mayRun: name === slot || settings.analyzers[name].intervalMs === 0 }, time);
    const pose = stream && this.reusesPose(settings) ? await this.runPose(image, faces, stream, time) : await run('pose', m.pose);
    const eyes = await run('eyes', m.eyes);
    const expression = await run('expression', m.expression);
    const liveness = await run('liveness', m.liveness);
    const crops = settings.analyzers.crops.enabled ? await time('crops', () => Promise.all(faces.map((f) => alignedCrop(image, f)))) : [];
    const text = await this.runText(image, settings, stream && { ...stream, mayRun: slot === 'text' }, time);
    const out = detected.map((d, i): DetectedFace => {
      const face: DetectedFace = { box: unscaleBox(d.box, scale), score: d.score };
      const lm = faces[i]!.landmarks;
      if (lm && settings.analyzers.landmarks.enabled) face.landmarks = Array.from(lm, (v) => Math.round((v / scale) * 10) / 10);
      const p = pose[i];
      if (p) face.pose = headPose(p.value, p.ageMs, settings);
      const e = eyes[i]?.value;
      if (e) face.eyes = { ...e, bothClosed: e.leftOpen < 0.5 && e.rightOpen < 0.5 };
      const x = expression[i];
      if (x) face.expression = { ...x.value, ageMs: x.ageMs };
      const l = liveness[i];
      if (l) face.liveness = { score: l.value, live: l.value >= settings.livenessThreshold, ageMs: l.ageMs };
      const crop = crops[i];
      if (crop) {
        face.crop = crop.crop;
        face.thumb = crop.thumb;
      }
      return face;
    });
    // Soft per-stream state for streams that stopped sending is dropped as time moves on.
    if (stream) this.cadence.sweep(stream.captureMs);
    return { width: frame.width, height: frame.height, faces: out, ...(text ? { text: unscaleText(text, scale) } : {}), timings };
  }

  /**
   * The one slow (interval > 0) analyzer this stream frame may run: the most overdue.
   * Running every due one in the same frame would stack their costs (expression ~30 ms a
   * face, text ~45 ms) into one late frame, and streams started together fall due
   * together; one per frame spreads them over the stream's next frames. On a replica
   * with a backlog, an analyzer less than one interval overdue is put off: its run (text
   * ~80 ms, expression ~30 ms a face under load) would hold up the frames waiting, and the
   * next frame of the stream (this replica's or a peer's with slack) can run it. So under
   * load the slow cadences stretch (to at most twice their interval) before frames are
   * shed; one never run before runs at once.
   */
  private slowSlot(settings: AnalysisSettings, stream: StreamFrame): CadencedAnalyzer | undefined {
    let best: CadencedAnalyzer | undefined;
    let bestBy = -1;
    for (const name of SLOW_CANDIDATES) {
      const s = settings.analyzers[name];
      if (!s.enabled || s.intervalMs === 0 || !this.models[name]) continue;
      const by = this.cadence.overdueBy(stream.key, name, stream.captureMs, s.intervalMs);
      if (stream.backlog && by < s.intervalMs) continue;
      if (by >= 0 && by > bestBy) {
        best = name;
        bestBy = by;
      }
    }
    return best;
  }

  /** Runs a per-face analyzer when allowed (always, for one-off images); else carries its last result. */
  private async runScheduled<T>(
    name: 'pose' | 'eyes' | 'expression' | 'liveness',
    model: FaceModel<T> | undefined,
    image: RgbImage,
    faces: FaceContext[],
    settings: AnalysisSettings,
    stream: ScheduledFrame | undefined,
    time: <U>(stage: string, fn: () => Promise<U>) => Promise<U>,
  ): Promise<Array<Carried<T>>> {
    const schedule = settings.analyzers[name];
    if (!model || !schedule.enabled || faces.length === 0) return faces.map(() => undefined);
    if (stream && !stream.mayRun) return this.cadence.carry<T>(stream.key, name, faces.map((f) => f.box), stream.captureMs);
    const values = await time(name, () => model.run(image, faces));
    if (stream) this.cadence.record(stream.key, name, stream.captureMs, values.map((value, i) => ({ box: faces[i]!.box, value })));
    return values.map((value) => ({ value, ageMs: 0 }));
  }

  /** Pose reuse applies: on, and pose enabled on every frame (a pose interval is a cadence of its own). */
  private reusesPose(settings: AnalysisSettings): boolean {
    const schedule = settings.analyzers.pose;
    return !!this.poseReuse && this.poseReuse.maxAgeMs > 0 && !!this.models.pose && schedule.enabled && schedule.intervalMs === 0;
  }

  /**
   * Head pose of a stream frame's faces: a face whose shape moved less than the limit since
   * its pose was computed, within the age limit, keeps that pose (with its age); the model
   * runs, in one batch, on the others only. `pose` is timed only when the model ran.
   */
  private async runPose(image: RgbImage, faces: FaceContext[], stream: StreamFrame, time: <U>(stage: string, fn: () => Promise<U>) => Promise<U>): Promise<Array<Carried<HeadPose>>> {
    if (faces.length === 0) return [];
    const shapes = faces.map((f) => (f.landmarks ? faceShape(f.landmarks, f.box) : undefined));
    const carried = this.cadence.carry<PoseRun>(stream.key, 'pose', faces.map((f) => f.box), stream.captureMs);
    const keep = faces.map((_, i) => poseStillValid(this.poseReuse!, carried[i], shapes[i]));
    const toRun = faces.filter((_, i) => !keep[i]);
    const ran = toRun.length > 0 ? await time('pose', () => this.models.pose!.run(image, toRun)) : [];
    let next = 0;
    const runs = faces.map((_, i): { value: PoseRun; ageMs: number } =>
      keep[i] ? carried[i]! : { value: { ...ran[next++]!, ...(shapes[i] ? { shape: shapes[i] } : {}) }, ageMs: 0 },
    );
    this.cadence.record(stream.key, 'pose', stream.captureMs, runs.map((r, i) => ({ box: faces[i]!.box, value: r.value, atMs: stream.captureMs - r.ageMs })));
    return runs;
  }

  private async runText(
    image: RgbImage,
    settings: AnalysisSettings,
    stream: ScheduledFrame | undefined,
    time: <U>(stage: string, fn: () => Promise<U>) => Promise<U>,
  ): Promise<TextInFrame | undefined> {
    const schedule = settings.analyzers.text;
    if (!this.models.text || !schedule.enabled) return undefined;
    const whole: Rect = [0, 0, image.width, image.height];
    if (stream && !stream.mayRun) {
      const [last] = this.cadence.carry<TextInFrame>(stream.key, 'text', [whole], stream.captureMs);
      return last && { ...last.value, ageMs: last.ageMs };
    }
    const found = await time('text', () => this.models.text!.detect(image.data, image.width, image.height));
    const text: TextInFrame = { regions: found.regions, score: Math.round(found.score * 1000) / 1000, ageMs: 0 };
    if (stream) this.cadence.record(stream.key, 'text', stream.captureMs, [{ box: whole, value: text }]);
    return text;
  }
}

/** The aligned crop as JPEG, and its thumbnail from the pixels themselves (reid then decodes the JPEG only to embed it). */
async function alignedCrop(image: RgbImage, face: FaceContext): Promise<{ crop: NonNullable<DetectedFace['crop']>; thumb: string } | undefined> {
  if (!face.landmarks) return undefined;
  const crop = sampleRgbImage(image, similarityFromTemplate(fivePoints(face.landmarks)), ALIGNED_SIZE, ALIGNED_SIZE);
  const jpeg = await sharp(crop.data, { raw: { width: crop.width, height: crop.height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
  return { crop: { format: 'jpeg', width: ALIGNED_SIZE, height: ALIGNED_SIZE, data: jpeg.toString('base64') }, thumb: cropThumb(crop.data, ALIGNED_SIZE) };
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** The face's pose as published: the angles only (a carried run also holds its shape), with age and the looking-at-camera verdict. */
function headPose(p: HeadPose, ageMs: number, settings: AnalysisSettings): NonNullable<DetectedFace['pose']> {
  const lookingAtCamera = Math.abs(p.yaw) <= settings.lookingAtCamera.maxYawDeg && Math.abs(p.pitch) <= settings.lookingAtCamera.maxPitchDeg;
  return { yaw: p.yaw, pitch: p.pitch, roll: p.roll, lookingAtCamera, ageMs };
}

function unscaleBox(b: Rect, scale: number): [number, number, number, number] {
  return [r1(b[0] / scale), r1(b[1] / scale), r1(b[2] / scale), r1(b[3] / scale)];
}

function unscaleText(t: TextInFrame, scale: number): TextInFrame {
  return { ...t, regions: t.regions.map((r) => ({ box: unscaleBox(r.box, scale), score: Math.round(r.score * 1000) / 1000 })) };
}
