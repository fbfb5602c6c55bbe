import { DEFAULT_RULES } from '@lookout/contracts';
import { advance, endStream, initialStreamState, isLate, type FrameInput } from '../src/stream/core/advance.js';
import { DEFAULT_TRACKER_CONFIG } from '../src/stream/core/tracker.js';

const frame = (seq: number, captureMs: number, faces = 0, sessionId: string | null = null): FrameInput => ({
  room: 'r',
  stream: 's',
  seq,
  captureMs,
  faces: Array.from({ length: faces }, (_, i) => ({ face: { box: [10 + i * 200, 10, 110 + i * 200, 130], score: 0.99 }, embedding: null, match: null })),
  sessionId,
  expected: null,
  galleryEmpty: true,
  rules: DEFAULT_RULES,
  tracker: DEFAULT_TRACKER_CONFIG,
  latencyMs: 10,
});

describe('one frame through the stream state', () => {
  it('orders frames by seq, but accepts a restarted numbering captured clearly later', () => {
    const state = { ...initialStreamState(null), lastSeq: 50, lastCaptureMs: 10_000 };
    expect(isLate(state, 49, 9_900)).toBe(true);
    expect(isLate(state, 50, 10_000)).toBe(true);
    expect(isLate(state, 51, 10_100)).toBe(false);
    expect(isLate(state, 0, 10_500)).toBe(true);
    expect(isLate(state, 0, 12_000)).toBe(false);
  });

  it('opens no_face after three empty frames, and ending the stream closes it at the last frame', () => {
    let state = advance(null, frame(0, 1000, 1)).state;
    const opened = [];
    for (let i = 1; i <= 4; i++) {
      const out = advance(state, frame(i, 1000 + i * 200));
      state = out.state;
      opened.push(...out.transitions);
    }
    expect(opened.map((t) => `${t.kind}:${t.state}:${t.startSeq}`)).toEqual(['no_face:open:1']);
    const ended = endStream(state, 'stream closed');
    expect(ended.transitions).toMatchObject([{ kind: 'no_face', state: 'closed', startSeq: 1, endSeq: 4 }]);
    expect(ended.metrics.length).toBe(1);
    expect(ended.state).toMatchObject({ lastSeq: 4, lastCaptureMs: 1800 });
    expect(endStream(ended.state, 'again').transitions).toEqual([]);
  });

  it('lists the tracks in view in each second, and numbers tracks on after a stream end within the session', () => {
    let state = advance(null, frame(0, 1000, 2, 'sess')).state;
    state = advance(state, frame(1, 1500, 2, 'sess')).state;
    const next = advance(state, frame(2, 2100, 1, 'sess'));
    expect(next.metrics[0]?.people).toEqual([
      { track: 't0', subjectId: null, name: null, frames: 2 },
      { track: 't1', subjectId: null, name: null, frames: 2 },
    ]);
    const ended = endStream(next.state, 'stream closed');
    expect(ended.metrics[0]?.people).toEqual([{ track: 't0', subjectId: null, name: null, frames: 1 }]);
    // The publisher comes back: whoever it shows is a new track, not t0 again.
    const back = advance(ended.state, frame(0, 9000, 1, 'sess'));
    expect(back.faces.map((f) => f.trackId)).toEqual(['t2']);
  });

  it('a new session closes the previous session\'s episodes and starts clean', () => {
    let state = advance(null, frame(0, 1000, 2, 'a')).state;
    for (let i = 1; i <= 3; i++) state = advance(state, frame(i, 1000 + i * 200, 2, 'a')).state;
    const next = advance(state, frame(4, 2000, 1, 'b'));
    expect(next.transitions).toMatchObject([{ kind: 'multiple_faces', state: 'closed', sessionId: 'a' }]);
    expect(next.state.sessionId).toBe('b');
    expect(next.metrics.every((m) => m.sessionId === 'a')).toBe(true);
  });
});
