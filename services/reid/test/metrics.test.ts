import { METRICS_PEOPLE_MAX, streamMetricsEvent, type ExpressionLabel, type FaceScores } from '@lookout/contracts';
import { accumulateMetrics, flushMetrics, type MetricsAccumulator, type SecondMetrics } from '../src/stream/core/metrics.js';
import type { FrameFacts, PrincipalView } from '../src/stream/core/types.js';

type FaceFacts = FrameFacts['faces'][number];

const PRINCIPAL: PrincipalView['principal'] = { subjectId: 'obama', name: 'Barack Obama', embedding: null, expected: true, sinceMs: 0, trackId: 't1' };

function face(engagement: number, label: ExpressionLabel | null, over: Partial<FaceFacts> = {}): FaceFacts {
  const scores: FaceScores = { eyeContact: engagement + 10, engagement, positivity: 50, postureStability: 90, confidence: 80 };
  return {
    trackId: 't1',
    identity: null,
    isPrincipal: true,
    scores,
    face: { box: [0, 0, 10, 10], score: 0.8, ...(label ? { expression: { label, probabilities: {}, ageMs: 0 } } : {}) },
    ...over,
  };
}

function frame(captureMs: number, faces: FaceFacts[], status: PrincipalView['status'] = faces.length ? 'present' : 'absent'): FrameFacts {
  return { seq: captureMs / 100, captureMs, faces, principal: { status, principal: PRINCIPAL }, galleryEmpty: false };
}

/** Feeds frames through the accumulator, round-tripping it through JSON between frames as the KV entry does. */
function feed(frames: Array<[FrameFacts, number | null]>): { flushed: SecondMetrics[]; acc: MetricsAccumulator | null } {
  let acc: MetricsAccumulator | null = null;
  const flushed: SecondMetrics[] = [];
  for (const [f, latency] of frames) {
    const stored: MetricsAccumulator | null = acc === null ? null : (JSON.parse(JSON.stringify(acc)) as MetricsAccumulator);
    const direct = accumulateMetrics(acc, f, latency);
    const viaJson = accumulateMetrics(stored, f, latency);
    expect(viaJson).toStrictEqual(direct);
    if (direct.flushed) flushed.push(direct.flushed);
    acc = direct.acc;
  }
  return { flushed, acc };
}

describe('accumulateMetrics', () => {
  it('emits nothing until a frame of a later second arrives, then that second', () => {
    const first = accumulateMetrics(null, frame(5000, [face(60, 'happy')]), 40);
    expect(first.flushed).toBeNull();
    const { flushed, acc } = feed([
      [frame(5000, [face(60, 'happy')]), 40],
      [frame(5200, [face(40, 'happy'), face(0, 'sad', { trackId: 't2', isPrincipal: false })]), 60],
      [frame(5400, []), null],
      [frame(5600, [face(20, 'neutral')], 'replaced'), 50],
      [frame(6100, [face(80, null)]), 10],
    ]);
    expect(flushed).toEqual([
      {
        second: 5,
        frames: 4,
        facesMean: 1,
        principalPresent: 0.5,
        // Means over the three frames with a principal face; the bystander (t2) does not count.
        scores: { eyeContact: 50, engagement: 40, positivity: 50, postureStability: 90, confidence: 80 },
        expressions: { happy: 2, neutral: 1 },
        latencyMs: 50,
        people: [
          { track: 't1', subjectId: null, name: null, frames: 3 },
          { track: 't2', subjectId: null, name: null, frames: 1 },
        ],
      },
    ]);
    expect(acc?.second).toBe(6);
    expect(acc && flushMetrics(acc)).toEqual({
      second: 6,
      frames: 1,
      facesMean: 1,
      principalPresent: 1,
      scores: { eyeContact: 90, engagement: 80, positivity: 50, postureStability: 90, confidence: 80 },
      expressions: {},
      latencyMs: 10,
      people: [{ track: 't1', subjectId: null, name: null, frames: 1 }],
    });
  });

  it('reports null scores and latency for a second without faces or latencies', () => {
    const { flushed } = feed([
      [frame(1000, []), null],
      [frame(1500, []), null],
      [frame(3000, [face(50, null)]), null],
    ]);
    expect(flushed).toEqual([
      {
        second: 1,
        frames: 2,
        facesMean: 0,
        principalPresent: 0,
        scores: { eyeContact: null, engagement: null, positivity: null, postureStability: null, confidence: null },
        expressions: {},
        latencyMs: null,
        people: [],
      },
    ]);
  });

  it('uses the only face when no face is marked principal, and none of several unmarked faces', () => {
    const unmarked = (e: number, id: string) => face(e, 'fear', { isPrincipal: false, trackId: id });
    const { flushed } = feed([
      [frame(2000, [unmarked(30, 'a')], 'unset'), null],
      [frame(2500, [unmarked(70, 'a'), unmarked(90, 'b')], 'unset'), null],
      [frame(3000, []), null],
    ]);
    expect(flushed[0]).toMatchObject({ frames: 2, facesMean: 1.5, principalPresent: 0, expressions: { fear: 1 } });
    expect(flushed[0]?.scores.engagement).toBe(30);
  });

  it('flushes every second it leaves, one event per second', () => {
    const { flushed } = feed([1000, 1900, 2000, 2999, 3000, 7000].map((ms) => [frame(ms, [face(50, 'neutral')]), 20]));
    expect(flushed.map((m) => [m.second, m.frames])).toEqual([
      [1, 2],
      [2, 2],
      [3, 1],
    ]);
  });

  it('starts over when the capture clock goes back (camera restarted)', () => {
    const { flushed, acc } = feed([
      [frame(9000, [face(50, null)]), null],
      [frame(2000, [face(50, null)]), null],
    ]);
    expect(flushed.map((m) => m.second)).toEqual([9]);
    expect(acc?.second).toBe(2);
  });
});

describe('people in view (attendance)', () => {
  const who = (subjectId: string | null, name: string | null) => ({ subjectId, name, similarity: 0.7 });

  it('counts frames per track and keeps the identity the track had, even over a later null', () => {
    const { flushed } = feed([
      [frame(7000, [face(50, null, { trackId: 't3' }), face(50, null, { trackId: 't4', isPrincipal: false })]), null],
      [frame(7200, [face(50, null, { trackId: 't3', identity: who('obama', 'Barack Obama') })]), null],
      // A settled "not in the gallery" identity is not an identification.
      [frame(7400, [face(50, null, { trackId: 't3', identity: null }), face(50, null, { trackId: 't4', isPrincipal: false, identity: who(null, null) })]), null],
      [frame(8000, []), null],
    ]);
    expect(flushed[0]?.people).toEqual([
      { track: 't3', subjectId: 'obama', name: 'Barack Obama', frames: 3 },
      { track: 't4', subjectId: null, name: null, frames: 2 },
    ]);
    expect(flushed[0]?.peopleLeftOut).toBeUndefined();
  });

  it('lists at most METRICS_PEOPLE_MAX tracks, the busiest, and says how many were left out', () => {
    const crowd = (n: number) => Array.from({ length: n }, (_, i) => face(50, null, { trackId: `c${String(i).padStart(2, '0')}`, isPrincipal: false }));
    const { flushed } = feed([
      [frame(9000, crowd(40)), null],
      [frame(9100, crowd(3)), null],
      [frame(10_000, []), null],
    ]);
    const people = flushed[0]!.people!;
    expect(people).toHaveLength(METRICS_PEOPLE_MAX);
    expect(people.slice(0, 3).map((p) => [p.track, p.frames])).toEqual([['c00', 2], ['c01', 2], ['c02', 2]]);
    expect(flushed[0]!.peopleLeftOut).toBe(40 - METRICS_PEOPLE_MAX);
    // The event with its people passes the contract (and its maxItems).
    expect(() => streamMetricsEvent.parse({ room: 'r', stream: 's', ...flushed[0]! })).not.toThrow();
  });

  it('reads an accumulator stored before attendance (no people) without failing', () => {
    const { acc } = feed([[frame(11_000, [face(50, null)]), null]]);
    const { people: _omit, ...old } = acc!;
    const next = accumulateMetrics(old, frame(11_500, [face(50, null)]), null);
    expect(flushMetrics(next.acc).people).toEqual([{ track: 't1', subjectId: null, name: null, frames: 1 }]);
  });
});
