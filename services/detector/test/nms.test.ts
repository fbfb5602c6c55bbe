import { iou } from '@lookout/contracts';
import { nms } from '../src/models/nms.js';

describe('iou', () => {
  it('is 1 for identical, 0 for disjoint, correct for partial overlap', () => {
    expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    expect(iou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150);
  });
});

describe('nms', () => {
  it('keeps the highest-scoring box of an overlapping pair, not the lowest edge', () => {
    const kept = nms(
      [
        { box: [0, 0, 10, 12] as const, score: 0.7 },
        { box: [0, 0, 10, 10] as const, score: 0.9 },
        { box: [50, 50, 60, 60] as const, score: 0.8 },
      ],
      0.4,
    );
    expect(kept.map((k) => k.score)).toEqual([0.9, 0.8]);
  });
  it('keeps boxes that overlap less than the threshold', () => {
    expect(nms([{ box: [0, 0, 10, 10] as const, score: 0.9 }, { box: [7, 0, 17, 10] as const, score: 0.8 }], 0.4)).toHaveLength(2);
  });
});
