import path from 'node:path';
import type { Static } from '@sinclair/typebox';
import { ANALYZER_NAMES, type AnalyzerName } from '@lookout/contracts';
import { fromInstallRoot, Gauge, type Registry } from '@lookout/service-kit';
import { SESSION_INFO_METRIC, type CalibrationSettings, type LogLike } from '@lookout/onnx-kit';
import type { DetectorConfig } from '../config.js';
import { FaceDetector } from './face-detector.js';
import { FaceModel } from '../analyzers/face-model.js';
import { landmarkSpec } from '../analyzers/landmarks.js';
import { poseSpec } from '../analyzers/pose.js';
import { eyeSpec } from '../analyzers/eyes.js';
import { expressionSpec } from '../analyzers/expression.js';
import { livenessSpec } from '../analyzers/liveness.js';
import { TextDetector } from './text-detector.js';
import type { AnalyzerModels } from '../pipeline/face-pipeline.js';
import { parseAnalyzerList, type AnalysisSettings } from '../settings/settings.js';

type Config = Static<typeof DetectorConfig>;

export interface LoadedModels {
  detector: FaceDetector;
  analyzers: AnalyzerModels;
  close(): Promise<void>;
}

export function enabledAnalyzers(config: Config): Set<AnalyzerName> {
  return parseAnalyzerList(config.analyzers);
}

/** Deployment defaults from config; rooms override them (settings.ts). */
export function defaultSettings(config: Config): AnalysisSettings {
  const on = enabledAnalyzers(config);
  const intervals: Partial<Record<AnalyzerName, number>> = {
    pose: config.poseIntervalMs,
    eyes: config.eyesIntervalMs,
    expression: config.expressionIntervalMs,
    liveness: config.livenessIntervalMs,
    text: config.textIntervalMs,
  };
  const analyzers = Object.fromEntries(ANALYZER_NAMES.map((n) => [n, { enabled: on.has(n), intervalMs: intervals[n] ?? 0 }])) as AnalysisSettings['analyzers'];
  return {
    analyzers,
    minFaceSize: config.minFaceSize,
    lookingAtCamera: { maxYawDeg: config.maxYawDeg, maxPitchDeg: config.maxPitchDeg },
    livenessThreshold: config.livenessThreshold,
    detection: { mode: config.detectionMode, smallestFace: config.smallestFace },
  };
}

/**
 * Loads every model once per process. All are loaded (not only the default-enabled ones)
 * because a room may switch an analyzer on at run time. Each session's options are chosen
 * per MODEL_CALIBRATION (@lookout/onnx-kit calibration), logged on `log` and exported as
 * lookout_model_session_info on `metrics` when given.
 */
export async function loadModels(config: Config, ctx: { log?: LogLike; metrics?: Registry } = {}): Promise<LoadedModels> {
  const file = (name: string) => path.resolve(fromInstallRoot(config.modelsDir), name);
  const threads = config.inferenceThreads;
  const batch = config.batchFaceModels;
  const sessions: CalibrationSettings = {
    mode: config.modelCalibration,
    ...(ctx.log ? { log: ctx.log } : {}),
    ...(ctx.metrics ? { info: new Gauge({ ...SESSION_INFO_METRIC, labelNames: [...SESSION_INFO_METRIC.labelNames], registers: [ctx.metrics] }) } : {}),
  };
  const detector = await FaceDetector.load({
    modelPath: file(config.detectorModel),
    confidence: config.detectConfidence,
    nmsIou: config.nmsIou,
    minFaceSize: config.minFaceSize,
    threads,
    sessions,
  });
  const [landmarks, pose, eyes, expression, liveness, text] = await Promise.all([
    FaceModel.load(landmarkSpec, file(config.landmarkModel), threads, batch, sessions),
    FaceModel.load(poseSpec, file(config.poseModel), threads, batch, sessions),
    FaceModel.load(eyeSpec, file(config.eyeModel), threads, batch, sessions),
    FaceModel.load(expressionSpec, file(config.expressionModel), threads, batch, sessions),
    FaceModel.load(livenessSpec, file(config.livenessModel), threads, batch, sessions),
    TextDetector.load({ modelPath: file(config.textModel), threads, sessions }),
  ]);
  const analyzers: AnalyzerModels = { landmarks, pose, eyes, expression, liveness, text };
  return {
    detector,
    analyzers,
    async close() {
      await Promise.all([detector.close(), landmarks.close(), pose.close(), eyes.close(), expression.close(), liveness.close(), text.close()]);
    },
  };
}
