import { ANALYZER_NAMES, roomAnalysisConfig } from '@lookout/contracts';
import { loadConfig } from '@lookout/service-kit';
import { DetectorConfig } from '../src/config.js';
import { defaultSettings } from '../src/models/models.js';
import { applyRoomConfig, needsLandmarks, parseAnalyzerList, type AnalysisSettings } from '../src/settings/settings.js';

const defaults: AnalysisSettings = {
  analyzers: {
    landmarks: { enabled: true, intervalMs: 0 },
    pose: { enabled: true, intervalMs: 0 },
    eyes: { enabled: true, intervalMs: 0 },
    expression: { enabled: true, intervalMs: 1000 },
    liveness: { enabled: true, intervalMs: 1000 },
    text: { enabled: false, intervalMs: 5000 },
    crops: { enabled: true, intervalMs: 0 },
  },
  minFaceSize: 16,
  lookingAtCamera: { maxYawDeg: 25, maxPitchDeg: 20 },
  livenessThreshold: 0.5,
  detection: { mode: 'auto', smallestFace: 20 },
};

describe('room settings', () => {
  it('keeps the defaults without a room config', () => expect(applyRoomConfig(defaults, undefined)).toBe(defaults));

  it('overrides only the fields a room sets', () => {
    const s = applyRoomConfig(defaults, { analyzers: { expression: { intervalMs: 250 }, text: { enabled: true } }, minFaceSize: 40 });
    expect(s.analyzers.expression).toEqual({ enabled: true, intervalMs: 250 });
    expect(s.analyzers.text).toEqual({ enabled: true, intervalMs: 5000 });
    expect(s.analyzers.pose).toEqual(defaults.analyzers.pose);
    expect(s.minFaceSize).toBe(40);
    expect(s.livenessThreshold).toBe(0.5);
    expect(s.detection).toEqual({ mode: 'auto', smallestFace: 20 });
    expect(defaults.analyzers.expression.intervalMs).toBe(1000);
  });

  it('lets a room choose its detection mode and smallest face (tiles for a wide camera)', () => {
    expect(applyRoomConfig(defaults, { detection: { mode: 'tiled' } }).detection).toEqual({ mode: 'tiled', smallestFace: 20 });
    expect(applyRoomConfig(defaults, { detection: { mode: 'single', smallestFace: 32, maxFrameWidth: 1920 } }).detection).toEqual({ mode: 'single', smallestFace: 32 });
    expect(() => roomAnalysisConfig.parse({ detection: { mode: 'pyramid' } })).toThrow();
    expect(roomAnalysisConfig.parse({ detection: { mode: 'auto', maxFrameWidth: 1920 } })).toEqual({ detection: { mode: 'auto', maxFrameWidth: 1920 } });
  });

  it('detects in auto mode by default (DETECTION_MODE), with single for the old behaviour', () => {
    expect(defaultSettings(loadConfig(DetectorConfig, {})).detection).toEqual({ mode: 'auto', smallestFace: 20 });
    expect(defaultSettings(loadConfig(DetectorConfig, { DETECTION_MODE: 'single', SMALLEST_FACE: '24' })).detection).toEqual({ mode: 'single', smallestFace: 24 });
  });

  it('runs landmarks when eyes or crops need them, even if landmarks output is off', () => {
    const off = (names: string[]) =>
      applyRoomConfig(defaults, { analyzers: Object.fromEntries(names.map((n) => [n, { enabled: false }])) });
    expect(needsLandmarks(off(['landmarks']))).toBe(true);
    expect(needsLandmarks(off(['landmarks', 'eyes']))).toBe(true);
    expect(needsLandmarks(off(['landmarks', 'eyes', 'crops']))).toBe(false);
  });

  it('lets a room switch every analyzer off (face detection only)', () => {
    const s = applyRoomConfig(defaults, { analyzers: Object.fromEntries(ANALYZER_NAMES.map((n) => [n, { enabled: false }])) });
    expect(ANALYZER_NAMES.filter((n) => s.analyzers[n].enabled)).toEqual([]);
    expect(needsLandmarks(s)).toBe(false);
  });
});

describe('ANALYZERS', () => {
  const enabled = (env: Record<string, string>) => {
    const s = defaultSettings(loadConfig(DetectorConfig, env));
    return ANALYZER_NAMES.filter((n) => s.analyzers[n].enabled);
  };

  it('`none` switches every analyzer off: face detection only', () => {
    expect(enabled({ ANALYZERS: 'none' })).toEqual([]);
    expect(needsLandmarks(defaultSettings(loadConfig(DetectorConfig, { ANALYZERS: 'none' })))).toBe(false);
  });

  it('unset or empty means the default list (every analyzer), like every other setting', () => {
    expect(enabled({})).toEqual([...ANALYZER_NAMES]);
    expect(enabled({ ANALYZERS: '' })).toEqual([...ANALYZER_NAMES]);
  });

  it('takes a list, and rejects unknown names and `none` mixed with names', () => {
    expect(enabled({ ANALYZERS: 'pose,crops' })).toEqual(['pose', 'crops']);
    expect(() => loadConfig(DetectorConfig, { ANALYZERS: 'pose,nose' })).toThrow(/ANALYZERS/);
    expect(() => loadConfig(DetectorConfig, { ANALYZERS: 'none,pose' })).toThrow(/ANALYZERS/);
    expect(() => parseAnalyzerList('pose,nose')).toThrow(/nose/);
    expect([...parseAnalyzerList('none')]).toEqual([]);
  });
});
