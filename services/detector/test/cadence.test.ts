import { CadenceTracker, REORDER_WINDOW_MS } from '../src/pipeline/cadence.js';

describe('CadenceTracker', () => {
  it('is due the first time, then once per interval, and always for interval 0', () => {
    const c = new CadenceTracker();
    expect(c.due('s', 'expression', 1000, 1000)).toBe(true);
    c.record('s', 'expression', 1000, []);
    expect(c.due('s', 'expression', 1500, 1000)).toBe(false);
    expect(c.due('s', 'expression', 2000, 1000)).toBe(true);
    expect(c.due('s', 'expression', 1500, 0)).toBe(true);
    expect(c.due('other', 'expression', 1500, 1000)).toBe(true);
  });

  it('is due again when capture time goes backwards (a camera restarted its clock)', () => {
    const c = new CadenceTracker();
    c.record('s', 'liveness', 10_000, []);
    expect(c.due('s', 'liveness', 5_000, 1000)).toBe(true);
  });

  it('keeps the newest run when a peer reports an older frame, and a frame older than the last run is not due', () => {
    const c = new CadenceTracker();
    c.record('s', 'expression', 2000, [{ box: [0, 0, 10, 10], value: 'new' }]);
    // A replica that analysed an earlier frame of the stream reports it after the newer one.
    c.record('s', 'expression', 1800, [{ box: [0, 0, 10, 10], value: 'old' }]);
    expect(c.carry<string>('s', 'expression', [[0, 0, 10, 10]], 2200)).toEqual([{ value: 'new', ageMs: 200 }]);
    expect(c.due('s', 'expression', 1900, 1000)).toBe(false);
    expect(c.due('s', 'expression', 3000, 1000)).toBe(true);
  });

  it('starts over when a run comes from a clock that went back past the reorder window', () => {
    const c = new CadenceTracker();
    c.record('s', 'text', 10_000, [{ box: [0, 0, 1, 1], value: 'before' }]);
    c.record('s', 'text', 10_000 - REORDER_WINDOW_MS - 1, [{ box: [0, 0, 1, 1], value: 'after restart' }]);
    expect(c.carry<string>('s', 'text', [[0, 0, 1, 1]], 10_000 - REORDER_WINDOW_MS)).toEqual([{ value: 'after restart', ageMs: 1 }]);
  });

  it('carries results to overlapping faces with their age, each result once', () => {
    const c = new CadenceTracker();
    c.record('s', 'expression', 1000, [
      { box: [0, 0, 10, 10], value: 'a' },
      { box: [100, 100, 110, 110], value: 'b' },
    ]);
    const carried = c.carry<string>('s', 'expression', [[101, 101, 111, 111], [1, 1, 11, 11], [0, 0, 10, 10], [300, 300, 310, 310]], 1400);
    // The exact match wins result a over the face that merely overlaps it.
    expect(carried).toEqual([{ value: 'b', ageMs: 400 }, undefined, { value: 'a', ageMs: 400 }, undefined]);
  });

  it('ages a carried result from the run that computed it, and ignores a second report of the recorded frame', () => {
    const c = new CadenceTracker();
    c.record('s', 'pose', 2000, [
      { box: [0, 0, 10, 10], value: 'kept', atMs: 1200 },
      { box: [50, 50, 60, 60], value: 'fresh' },
    ]);
    expect(c.carry<string>('s', 'pose', [[0, 0, 10, 10], [50, 50, 60, 60]], 2200)).toEqual([
      { value: 'kept', ageMs: 1000 },
      { value: 'fresh', ageMs: 200 },
    ]);
    // This replica's own faces message about frame 2000 comes back through the peer subscription.
    c.record('s', 'pose', 2000, [{ box: [0, 0, 10, 10], value: 'echo' }]);
    expect(c.carry<string>('s', 'pose', [[50, 50, 60, 60]], 2200)).toEqual([{ value: 'fresh', ageMs: 200 }]);
  });

  it('forgets streams not seen for a while', () => {
    const c = new CadenceTracker(1000);
    c.record('old', 'text', 0, []);
    c.record('new', 'text', 5000, []);
    c.sweep(5000);
    expect(c.size).toBe(1);
    expect(c.due('old', 'text', 5000, 60_000)).toBe(true);
  });
});
