import { FreezeDetector } from '../../src/tap/freeze-detector.js';

const jpeg = (n: number) => Buffer.from([0xff, 0xd8, n & 0xff, (n >> 8) & 0xff, 0xff, 0xd9]);

describe('FreezeDetector: a picture that stops changing while frames keep coming', () => {
  it('changing frames are never frozen', () => {
    const d = new FreezeDetector(5000);
    for (let i = 0; i < 100; i++) expect(d.frame(jpeg(i), i * 200)).toBe(true);
    expect(d.frozen(20_000)).toBe(false);
  });

  it('byte-identical frames for the configured time are frozen, counted from the first copy', () => {
    const d = new FreezeDetector(5000);
    expect(d.frame(jpeg(1), 0)).toBe(true);
    for (let t = 200; t < 5200; t += 200) {
      expect(d.frame(jpeg(1), t)).toBe(false);
      expect(d.frozen(t)).toBe(false);
    }
    d.frame(jpeg(1), 5200);
    expect(d.frozen(5200)).toBe(true);
    expect(d.identicalFrames).toBe(27);
    // It moves again: no longer frozen.
    expect(d.frame(jpeg(2), 5400)).toBe(true);
    expect(d.frozen(5400)).toBe(false);
  });

  it('an outage is not a freeze: the first frames after it may repeat the last one before it', () => {
    const d = new FreezeDetector(5000);
    d.frame(jpeg(1), 0);
    d.frame(jpeg(1), 8000); // first frame after 8 s without frames: a copy
    expect(d.frozen(8000)).toBe(false);
    d.frame(jpeg(2), 8200);
    expect(d.frozen(8200)).toBe(false);
  });

  it('a restarted tap times afresh but still knows the picture', () => {
    const d = new FreezeDetector(1000);
    d.frame(jpeg(1), 0);
    d.frame(jpeg(1), 1500);
    d.frame(jpeg(1), 2600);
    expect(d.frozen(2600)).toBe(true);
    d.restartClock();
    expect(d.frame(jpeg(1), 4000)).toBe(false); // still a copy
    expect(d.frozen(4000)).toBe(false);
    d.frame(jpeg(1), 5000);
    expect(d.frozen(5000)).toBe(true);
  });

  it('0 turns detection off', () => {
    const d = new FreezeDetector(0);
    for (let t = 0; t < 60_000; t += 200) d.frame(jpeg(1), t);
    expect(d.frozen(60_000)).toBe(false);
  });
});
