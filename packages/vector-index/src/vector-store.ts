import type { TopK } from './top-k.js';

/**
 * Vectors per full chunk: 32 MiB at 512 dims. Fixed-size chunks mean a growing gallery
 * never copies more than one chunk (one big array would copy 2 GB at 1M when doubling)
 * and a shrinking one hands whole chunks back.
 */
const SHIFT = 14;
const CHUNK = 1 << SHIFT;
const MASK = CHUNK - 1;
/**
 * The first chunk starts this small and doubles, so a gallery of a few people costs
 * kilobytes; later chunks are made full size at once (the gallery is big by then).
 */
const FIRST = 64;

/**
 * The float32 vectors, slot by slot (slots are dense: 0 … size-1). Scores computed from
 * here are the exact cosines the index returns.
 */
export class VectorStore {
  private chunks: Float32Array[] = [];

  constructor(private readonly dim: number) {}

  get bytes(): number {
    return this.chunks.reduce((sum, c) => sum + c.byteLength, 0);
  }

  write(slot: number, v: Float32Array): void {
    this.room(slot).set(v.subarray(0, this.dim), (slot & MASK) * this.dim);
  }

  move(from: number, to: number): void {
    const at = (from & MASK) * this.dim;
    this.room(to).set(this.chunk(from).subarray(at, at + this.dim), (to & MASK) * this.dim);
  }

  /**
   * Zeroes the slot: a removed face's numbers must not linger in memory. For the same reason
   * every array this store lets go of (grown or shrunk) is zeroed first: the garbage
   * collector frees memory but does not wipe it.
   */
  erase(slot: number): void {
    const at = (slot & MASK) * this.dim;
    this.chunk(slot).fill(0, at, at + this.dim);
  }

  /** Releases chunks (and over-sized tails) no longer needed for `size` slots. */
  truncate(size: number): void {
    const keep = Math.ceil(size / CHUNK);
    this.chunks.length = Math.min(this.chunks.length, keep);
    const last = this.chunks[keep - 1];
    const used = size - (keep - 1) * CHUNK;
    if (last && last.length / this.dim >= 4 * Math.max(used, FIRST)) {
      this.chunks[keep - 1] = last.slice(0, Math.max(2 * used, FIRST) * this.dim);
      last.fill(0); // the dropped copy must not keep vectors that may be removed later
    }
  }

  dot(slot: number, q: Float32Array): number {
    return dotAt(this.chunk(slot), (slot & MASK) * this.dim, q, this.dim);
  }

  /** Exact scan of slots [0, size) into `top`. */
  scan(size: number, q: Float32Array, top: TopK): void {
    const dim = this.dim;
    for (let c = 0; c * CHUNK < size; c++) {
      const chunk = this.chunks[c]!;
      const end = Math.min(CHUNK, size - c * CHUNK) * dim;
      const base = c * CHUNK;
      for (let at = 0, slot = base; at < end; at += dim, slot++) {
        const score = dotAt(chunk, at, q, dim);
        if (score > top.floor) top.push(slot, score);
      }
    }
  }

  private chunk(slot: number): Float32Array {
    const c = this.chunks[slot >>> SHIFT];
    if (!c) throw new Error(`vector-index: slot ${slot} is not stored`);
    return c;
  }

  /** The chunk for `slot`, created or grown to hold it. */
  private room(slot: number): Float32Array {
    const c = slot >>> SHIFT;
    const have = this.chunks[c];
    const need = ((slot & MASK) + 1) * this.dim;
    if (have && have.length >= need) return have;
    let vectors = have ? have.length / this.dim : c === 0 ? FIRST : CHUNK;
    while (vectors * this.dim < need) vectors *= 2;
    const grown = new Float32Array(Math.min(vectors, CHUNK) * this.dim);
    if (have) {
      grown.set(have);
      have.fill(0);
    }
    this.chunks[c] = grown;
    return grown;
  }
}

/** Dot product of q with a[at … at+dim); four accumulators let V8 overlap the multiply-adds. */
function dotAt(a: Float32Array, at: number, q: Float32Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < dim; j += 4) {
    s0 += a[at + j]! * q[j]!;
    s1 += a[at + j + 1]! * q[j + 1]!;
    s2 += a[at + j + 2]! * q[j + 2]!;
    s3 += a[at + j + 3]! * q[j + 3]!;
  }
  for (; j < dim; j++) s0 += a[at + j]! * q[j]!;
  return s0 + s1 + s2 + s3;
}
