/**
 * A 1-bit sketch of a vector: the signs of a fixed pseudo-random rotation of it (SimHash).
 * For two vectors at angle θ each bit differs with probability θ/π, so the Hamming distance
 * between sketches ranks gallery vectors by cosine without any training: it works the same
 * on random vectors (no cluster structure, where IVF needs to probe a large share of its
 * lists) as on real, clustered embeddings, and a new vector costs one encode, never a
 * retrain. 512 dims → 64 bytes, 1/32 of the float32 vector.
 *
 * The rotation is three rounds of (random ±1 signs, Walsh–Hadamard transform), the usual
 * fast stand-in for a dense random rotation: O(d log d), ~9 µs per 512-dim vector in JS,
 * versus 262K multiply-adds for a dense 512×512 matrix. Without it the sketch would be the
 * signs of the raw coordinates, whose Hamming distance only tracks the angle when every
 * coordinate carries the same variance, which real embeddings do not promise.
 */
const ROUNDS = 3;

/** mulberry32: small, seedable, good enough to draw sign flips. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** In-place unnormalised Walsh–Hadamard transform (length a power of two). */
function hadamard(a: Float64Array): void {
  const n = a.length;
  for (let h = 1; h < n; h <<= 1) {
    for (let i = 0; i < n; i += h << 1) {
      for (let j = i; j < i + h; j++) {
        const x = a[j]!;
        const y = a[j + h]!;
        a[j] = x + y;
        a[j + h] = x - y;
      }
    }
  }
}

export class SignSketch {
  /** Sketch length: the dimension padded to a power of two, at least 64. */
  readonly bits: number;
  private readonly signs: Float64Array[];
  private readonly buf: Float64Array;

  constructor(
    readonly dim: number,
    seed: number,
  ) {
    let bits = 64;
    while (bits < dim) bits <<= 1;
    this.bits = bits;
    this.buf = new Float64Array(bits);
    const next = prng(seed);
    this.signs = Array.from({ length: ROUNDS }, () => Float64Array.from({ length: bits }, () => (next() < 0.5 ? -1 : 1)));
  }

  /** Writes the sketch of `v` (dim values) as bits/32 words into `out` from word `at`. */
  encode(v: Float32Array, out: Uint32Array, at: number): void {
    const buf = this.buf;
    for (let i = 0; i < this.dim; i++) buf[i] = v[i]!;
    for (const signs of this.signs) {
      for (let i = 0; i < buf.length; i++) buf[i]! *= signs[i]!;
      hadamard(buf);
    }
    for (let w = 0; w < this.bits >> 5; w++) {
      let word = 0;
      for (let b = 0; b < 32; b++) if (buf[(w << 5) + b]! > 0) word |= 1 << b;
      out[at + w] = word >>> 0;
    }
    buf.fill(0); // zero padding for the next call, and no copy of the vector left behind
  }
}
