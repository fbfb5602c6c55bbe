import { ANALYZER_NAMES, type AnalyzerName, type RoomAnalysisConfig } from '@lookout/contracts';
import type { DetectionSettings } from '../pipeline/small-faces.js';

export interface AnalyzerSchedule {
  enabled: boolean;
  intervalMs: number;
}

/** What the pipeline does for one frame: deployment defaults with a room's overrides applied. */
export interface AnalysisSettings {
  analyzers: Record<AnalyzerName, AnalyzerSchedule>;
  minFaceSize: number;
  lookingAtCamera: { maxYawDeg: number; maxPitchDeg: number };
  livenessThreshold: number;
  /** Whole frame only, tiles too, or tiles where small faces are (pipeline/small-faces.ts). */
  detection: DetectionSettings;
}

/** The ANALYZERS setting: a comma-separated list of analyzer names, or `none` for face detection only. */
export const NO_ANALYZERS = 'none';

export function parseAnalyzerList(value: string): Set<AnalyzerName> {
  const names = value.split(',').map((n) => n.trim()).filter(Boolean);
  if (names.length === 1 && names[0] === NO_ANALYZERS) return new Set();
  const unknown = names.filter((n) => !(ANALYZER_NAMES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`unknown analyzer(s): ${unknown.join(', ')}; choose from ${ANALYZER_NAMES.join(', ')} or ${NO_ANALYZERS}`);
  return new Set(names as AnalyzerName[]);
}

export function applyRoomConfig(defaults: AnalysisSettings, room: RoomAnalysisConfig | undefined): AnalysisSettings {
  if (!room) return defaults;
  const analyzers = { ...defaults.analyzers };
  for (const name of ANALYZER_NAMES) {
    const o = room.analyzers?.[name];
    if (o) analyzers[name] = { enabled: o.enabled ?? analyzers[name].enabled, intervalMs: o.intervalMs ?? analyzers[name].intervalMs };
  }
  return {
    analyzers,
    minFaceSize: room.minFaceSize ?? defaults.minFaceSize,
    lookingAtCamera: room.lookingAtCamera ?? defaults.lookingAtCamera,
    livenessThreshold: room.livenessThreshold ?? defaults.livenessThreshold,
    detection: { mode: room.detection?.mode ?? defaults.detection.mode, smallestFace: room.detection?.smallestFace ?? defaults.detection.smallestFace },
  };
}

/** Landmarks feed eye crops and the aligned crop: they run whenever either is wanted. */
export function needsLandmarks(s: AnalysisSettings): boolean {
  return s.analyzers.landmarks.enabled || s.analyzers.eyes.enabled || s.analyzers.crops.enabled;
}
