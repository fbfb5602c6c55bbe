import { DEFAULT_RATE_GATE, RateGate } from '../../src/tap/rate-gate.js';

const gate = (fps = 5) => new RateGate({ ...DEFAULT_RATE_GATE, fps });

/** Frames admitted out of arrivals every `everyMs` from `fromMs` for `forMs`. */
function feed(g: RateGate, fromMs: number, forMs: number, everyMs: number): number {
  let admitted = 0;
  for (let t = fromMs; t < fromMs + forMs; t += everyMs) if (g.admit(t)) admitted++;
  return admitted;
}

describe("RateGate: a tap never publishes faster than its room's rate", () => {
  it('passes frames at the room rate, with ffmpeg timing jitter, and drops none', () => {
    const g = gate(5);
    let admitted = 0;
    for (let i = 0; i < 100; i++) if (g.admit(i * 200 + (i % 2 ? 30 : -30))) admitted++;
    expect(admitted).toBe(100);
    expect(g.dropped).toBe(0);
  });

  it('passes a small clump after a hiccup (two frames in one pipe read), not a gap refilled with copies', () => {
    const g = gate(5);
    feed(g, 0, 2000, 200);
    // 3 s without frames, then the fps filter fills the gap: 15 frames within 30 ms.
    const clump = feed(g, 5000, 30, 2);
    expect(clump).toBe(2); // the burst
    expect(g.overproducing(5030)).toBe(false); // one clump is not a flood
    expect(feed(g, 5200, 2000, 200)).toBeGreaterThanOrEqual(9);
  });

  it('caps a flood at the rate (+ slack) in every second, and calls a sustained one overproducing', () => {
    const g = gate(5);
    for (let second = 0; second < 5; second++) {
      const admitted = feed(g, second * 1000, 1000, 2); // 500 frames a second
      expect(admitted).toBeLessThanOrEqual(Math.ceil(5 * 1.25) + DEFAULT_RATE_GATE.burst);
    }
    expect(g.overproducing(5000)).toBe(true);
    expect(g.dropped).toBeGreaterThan(2400);
  });

  it('a flood is noticed within about half a window', () => {
    const g = gate(5);
    let t = 0;
    while (!g.overproducing(t) && t < 10_000) {
      g.admit(t);
      t += 5;
    }
    expect(t).toBeGreaterThanOrEqual(DEFAULT_RATE_GATE.windowMs / 2);
    expect(t).toBeLessThanOrEqual(DEFAULT_RATE_GATE.windowMs);
  });

  it('well over twice the rate for a while is overproducing; a little over the rate is not', () => {
    const fast = gate(5);
    feed(fast, 0, 6000, 80); // 12.5 fps
    expect(fast.overproducing(6000)).toBe(true);
    const jittery = gate(5);
    feed(jittery, 0, 6000, 170); // ~5.9 fps
    expect(jittery.overproducing(6000)).toBe(false);
  });
});
