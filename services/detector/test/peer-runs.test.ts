import { facesMessage, type FacesMessage } from '@lookout/contracts';
import { runsInFacesMessage } from '../src/pipeline/peer-runs.js';
import type { PoseRun } from '../src/pipeline/pose-reuse.js';

/** A 1280×720 frame (analysed at 640×360 with MAX_ANALYSIS_SIDE 640) with two faces. */
function message(timings: FacesMessage['timings'], withText = false): FacesMessage {
  const face = (x: number): FacesMessage['faces'][number] => ({
    box: [x, 100, x + 200, 300],
    score: 0.9,
    pose: { yaw: 10, pitch: -5, roll: 2, lookingAtCamera: true },
    eyes: { leftOpen: 0.9, rightOpen: 0.8, bothClosed: false },
    expression: { label: 'happy', probabilities: { happy: 0.7, neutral: 0.3 }, ageMs: 0 },
    liveness: { score: 0.95, live: true, ageMs: 0 },
  });
  const m: FacesMessage = {
    room: 'r',
    stream: 's',
    seq: 7,
    captureMs: 5000,
    width: 1280,
    height: 720,
    faces: [face(100), face(600)],
    ...(withText ? { text: { regions: [{ box: [10, 20, 110, 60], score: 0.8 }], score: 0.8, ageMs: 0 } } : {}),
    timings,
    worker: 'detector-b',
  };
  expect(facesMessage.is(m)).toBe(true);
  return m;
}

describe('runsInFacesMessage', () => {
  it('reports the runs the timings name, in analysed pixels, without the derived fields', () => {
    const runs = runsInFacesMessage(message({ decode: 3, detect: 5, pose: 4, eyes: 1, expression: 20 }), 640);
    expect(runs.map((r) => r.analyzer)).toEqual(['pose', 'eyes', 'expression']);
    const [pose, eyes, expression] = runs;
    expect(pose!.results).toEqual([
      { box: [50, 50, 150, 150], value: { yaw: 10, pitch: -5, roll: 2 }, atMs: 5000 },
      { box: [300, 50, 400, 150], value: { yaw: 10, pitch: -5, roll: 2 }, atMs: 5000 },
    ]);
    expect(eyes!.results[0]!.value).toEqual({ leftOpen: 0.9, rightOpen: 0.8 });
    expect(expression!.results[1]!.value).toEqual({ label: 'happy', probabilities: { happy: 0.7, neutral: 0.3 } });
  });

  it('keeps a pose\'s age and the shape of the face it was read from', () => {
    const m = message({ pose: 4 });
    // A square 68-point face: every point at the box's centre but the first, at its corner.
    m.faces[0]!.landmarks = Array.from({ length: 136 }, (_, i) => (i < 2 ? [100, 100][i]! : i % 2 === 0 ? 200 : 200));
    m.faces[1]!.pose!.ageMs = 600;
    const [pose] = runsInFacesMessage(m, 640);
    const first = pose!.results[0]!.value as { shape?: Float32Array };
    expect(Array.from(first.shape!.slice(0, 4))).toEqual([0, 0, 0.5, 0.5]);
    expect(pose!.results.map((r) => r.atMs)).toEqual([5000, 4400]);
    expect('shape' in (pose!.results[1]!.value as PoseRun)).toBe(false);
    // No pose run on the frame (every face kept its pose): nothing to record.
    expect(runsInFacesMessage(message({ decode: 3 }), 640)).toEqual([]);
  });

  it('takes the liveness score and the text regions, scaled, only when they ran on that frame', () => {
    expect(runsInFacesMessage(message({ decode: 3, detect: 5 }, true), 640)).toEqual([]);
    const [liveness, text] = runsInFacesMessage(message({ liveness: 6, text: 50 }, true), 640);
    expect(liveness).toEqual({ analyzer: 'liveness', results: [{ box: [50, 50, 150, 150], value: 0.95 }, { box: [300, 50, 400, 150], value: 0.95 }] });
    expect(text).toEqual({ analyzer: 'text', results: [{ box: [0, 0, 640, 360], value: { regions: [{ box: [5, 10, 55, 30], score: 0.8 }], score: 0.8, ageMs: 0 } }] });
  });

  it('keeps original pixels when the frame is within the analysis size, and a face without the value is left out', () => {
    const m = message({ expression: 20 });
    delete m.faces[1]!.expression;
    expect(runsInFacesMessage(m, 2000)).toEqual([{ analyzer: 'expression', results: [{ box: [100, 100, 300, 300], value: { label: 'happy', probabilities: { happy: 0.7, neutral: 0.3 } } }] }]);
  });
});
