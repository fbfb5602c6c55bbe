/**
 * The k best (highest-scoring) slots seen so far: a binary min-heap whose root is the worst
 * kept score, so a scan rejects most slots with one comparison against `floor`.
 */
export class TopK {
  /** Score a new slot must beat to be kept; -Infinity until k slots are held. */
  floor = -Infinity;
  private readonly scores: Float64Array;
  private readonly slots: Int32Array;
  private n = 0;

  constructor(readonly k: number) {
    this.scores = new Float64Array(k);
    this.slots = new Int32Array(k);
  }

  push(slot: number, score: number): void {
    if (this.k === 0 || score <= this.floor) return;
    if (this.n < this.k) {
      this.siftUp(this.n++, slot, score);
      if (this.n === this.k) this.floor = this.scores[0]!;
      return;
    }
    this.siftDown(slot, score);
    this.floor = this.scores[0]!;
  }

  /** Kept slots, best first. */
  sorted(): Array<{ slot: number; score: number }> {
    const out = Array.from({ length: this.n }, (_, i) => ({ slot: this.slots[i]!, score: this.scores[i]! }));
    return out.sort((a, b) => b.score - a.score || a.slot - b.slot);
  }

  private siftUp(i: number, slot: number, score: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.scores[parent]! <= score) break;
      this.scores[i] = this.scores[parent]!;
      this.slots[i] = this.slots[parent]!;
      i = parent;
    }
    this.scores[i] = score;
    this.slots[i] = slot;
  }

  /** Replaces the root (the worst kept) and restores the heap. */
  private siftDown(slot: number, score: number): void {
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.n) break;
      const right = left + 1;
      const child = right < this.n && this.scores[right]! < this.scores[left]! ? right : left;
      if (this.scores[child]! >= score) break;
      this.scores[i] = this.scores[child]!;
      this.slots[i] = this.slots[child]!;
      i = child;
    }
    this.scores[i] = score;
    this.slots[i] = slot;
  }
}
