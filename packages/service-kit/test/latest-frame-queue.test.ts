import { LatestFrameQueue } from '../src/latest-frame-queue.js';

describe('LatestFrameQueue', () => {
  it('keeps only the newest item per key, in the order keys first waited', () => {
    const q = new LatestFrameQueue<number>();
    expect(q.push('a', 1)).toBeUndefined();
    expect(q.push('b', 10)).toBeUndefined();
    expect(q.push('a', 2)).toBe(1);
    expect(q.push('a', 3)).toBe(2);
    expect(q.size).toBe(2);
    expect(q.shift()).toBe(3);
    expect(q.shift()).toBe(10);
    expect(q.shift()).toBeUndefined();
  });
  it('skips the keys a worker has in hand, leaving them in their place', () => {
    const q = new LatestFrameQueue<number>();
    q.push('a', 1);
    q.push('b', 2);
    q.push('c', 3);
    expect(q.shift((k) => k !== 'a')).toBe(2);
    expect(q.shift((k) => k === 'x')).toBeUndefined();
    expect(q.size).toBe(2);
    expect(q.shift()).toBe(1);
    expect(q.shift()).toBe(3);
  });
  it('clear returns what was waiting', () => {
    const q = new LatestFrameQueue<number>();
    q.push('a', 1);
    q.push('b', 2);
    expect(q.clear()).toEqual([1, 2]);
    expect(q.size).toBe(0);
  });
});
