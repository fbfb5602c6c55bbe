import { Backoff, ProgressRate } from '../src/jobs/progress-rate.js';

describe('Backoff (retries of a job\'s frame)', () => {
  it('doubles from 250 ms to 5 s and starts again after a success', () => {
    const b = new Backoff();
    expect(Array.from({ length: 8 }, () => b.next())).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
    b.reset();
    expect(b.next()).toBe(250);
  });
});

describe('ProgressRate (ETA and video seconds per second)', () => {
  it('says nothing before a second of samples', () => {
    const r = new ProgressRate();
    r.record(0, 0);
    r.record(500, 5);
    expect(r.estimate(5, 100, 5)).toEqual({});
  });

  it('takes the recent rate: 10 frames/s at 5 fps is 2 video seconds per second', () => {
    const r = new ProgressRate(20_000);
    for (let t = 0; t <= 4000; t += 1000) r.record(t, t / 100);
    // 40 frames done of 100 at 10 frames/s: 6 s to go.
    expect(r.estimate(40, 100, 5)).toEqual({ videoSecondsPerSecond: 2, etaMs: 6000 });
  });

  it('forgets what is older than its span (a replica joined: the pace doubles)', () => {
    const r = new ProgressRate(5000);
    let frames = 0;
    for (let t = 0; t <= 30_000; t += 1000) {
      frames += t <= 20_000 ? 5 : 10;
      r.record(t, frames);
    }
    expect(r.framesPerSecond()).toBeCloseTo(10, 5);
    expect(r.estimate(frames, undefined, 5)).toEqual({ videoSecondsPerSecond: 2 });
  });

  it('no progress: a rate of 0 and no ETA', () => {
    const r = new ProgressRate();
    r.record(0, 7);
    r.record(3000, 7);
    expect(r.estimate(7, 50, 5)).toEqual({ videoSecondsPerSecond: 0 });
  });
});
