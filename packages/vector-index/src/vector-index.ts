import { SketchCodes } from './hamming-kernel.js';
import { SignSketch } from './sign-sketch.js';
import { TopK } from './top-k.js';
import { VectorStore } from './vector-store.js';

/** One match: `score` is the exact float32 cosine (dot product of unit vectors). */
export interface SearchHit {
  key: string;
  score: number;
}

export interface VectorIndexOptions {
  /** Vector length (512 for the face embedder). */
  dim: number;
  /**
   * Up to this many vectors, search scans every float32 vector (exact, ~0.35 ms per 1 000
   * vectors at 512 dims); above it, it scans 1-bit sketches and re-ranks. Default 20 000.
   * 0 means always sketches, Infinity always exact.
   */
  exactMaxSize?: number;
  /**
   * Sketch mode: how many vectors with the nearest sketches are re-scored in float32 before
   * the top k are returned (at least k are). More costs ~1 µs each and raises recall,
   * mostly of weak matches far below any acceptance threshold. Default 1 000.
   */
  rerank?: number;
  /** Seed of the sketch's random rotation (fixed so runs are reproducible). */
  seed?: number;
}

export type SearchMode = 'exact' | 'sketch';

export interface VectorIndexStats {
  size: number;
  dim: number;
  /** How search() runs at the current size. */
  mode: SearchMode;
  exactMaxSize: number;
  rerank: number;
  sketchBits: number;
  /** Memory held: float32 vectors, sketches (with the scan's scratch), and their sum. */
  bytes: { vectors: number; sketches: number; total: number };
}

export const DEFAULT_EXACT_MAX_SIZE = 20_000;
export const DEFAULT_RERANK = 1_000;

/**
 * In-memory top-k cosine search over unit vectors, for the gallery of face embeddings.
 *
 * Every vector is kept twice: in float32 (for exact scores) and as a 1-bit sketch of a
 * random rotation of it (sign-sketch.ts). Small galleries are searched exactly. Large ones
 * scan all sketches with a WebAssembly popcount loop (64 bytes per 512-dim vector: 1M
 * vectors in ~3 ms on one core, against ~350 ms for the float32 scan in JS) and re-score the
 * `rerank` nearest exactly. Nothing is trained, so there is no build step: add and remove
 * cost microseconds at any size and a vector is searchable as soon as add returns.
 *
 * Slots are dense (0 … size-1): remove moves the last vector into the freed slot and zeroes
 * the last one, so no trace of a removed vector stays in the index's memory.
 */
export class VectorIndex {
  readonly dim: number;
  private readonly exactMaxSize: number;
  private readonly rerank: number;
  private readonly sketch: SignSketch;
  private readonly codes: SketchCodes;
  private readonly vectors: VectorStore;
  private readonly keys: string[] = [];
  private readonly slots = new Map<string, number>();

  constructor(opts: VectorIndexOptions) {
    if (!Number.isInteger(opts.dim) || opts.dim <= 0) throw new Error(`vector-index: dim must be a positive integer, got ${opts.dim}`);
    this.dim = opts.dim;
    this.exactMaxSize = opts.exactMaxSize ?? DEFAULT_EXACT_MAX_SIZE;
    this.rerank = Math.max(1, Math.floor(opts.rerank ?? DEFAULT_RERANK));
    this.sketch = new SignSketch(opts.dim, opts.seed ?? 0x5eed);
    this.codes = new SketchCodes(this.sketch.bits);
    this.vectors = new VectorStore(opts.dim);
  }

  get size(): number {
    return this.keys.length;
  }

  has(key: string): boolean {
    return this.slots.has(key);
  }

  /** Adds or replaces `key`. The vector is copied; it should be unit length. */
  add(key: string, vector: Float32Array): void {
    this.check(vector, 'vector');
    for (let i = 0; i < this.dim; i++) {
      if (!Number.isFinite(vector[i]!)) throw new Error(`vector-index: vector for ${key} has a non-finite value at ${i}`);
    }
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.keys.length;
      this.codes.reserve(slot + 1);
      this.keys.push(key);
      this.slots.set(key, slot);
    }
    this.vectors.write(slot, vector);
    const { words, at } = this.codes.view(slot);
    this.sketch.encode(vector, words, at);
  }

  /** Forgets `key` and zeroes its vector and sketch; false when it was not there. */
  remove(key: string): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    const last = this.keys.length - 1;
    if (slot !== last) {
      const moved = this.keys[last]!;
      this.vectors.move(last, slot);
      this.codes.move(last, slot);
      this.keys[slot] = moved;
      this.slots.set(moved, slot);
    }
    this.vectors.erase(last);
    this.codes.erase(last);
    this.keys.pop();
    this.slots.delete(key);
    this.vectors.truncate(this.keys.length);
    this.codes.release(this.keys.length);
    return true;
  }

  /** The k best matches, best first (fewer when the index holds fewer). */
  search(query: Float32Array, k: number): SearchHit[] {
    return this.mode === 'exact' ? this.searchExact(query, k) : this.searchSketch(query, k);
  }

  /** Brute force over every float32 vector, whatever the size (tests and benchmarks compare with it). */
  searchExact(query: Float32Array, k: number): SearchHit[] {
    this.check(query, 'query');
    const top = new TopK(this.clampK(k));
    if (top.k > 0) this.vectors.scan(this.size, query, top);
    return this.hits(top);
  }

  /** Sketch scan + exact re-rank of the `rerank` nearest sketches, whatever the size. */
  searchSketch(query: Float32Array, k: number, rerank = this.rerank): SearchHit[] {
    this.check(query, 'query');
    const top = new TopK(this.clampK(k));
    if (top.k === 0) return [];
    const { words, at } = this.codes.view('query');
    this.sketch.encode(query, words, at);
    for (const slot of this.codes.nearest(this.size, Math.max(Number.isNaN(rerank) ? this.rerank : Math.floor(rerank), top.k))) {
      top.push(slot, this.vectors.dot(slot, query));
    }
    return this.hits(top);
  }

  get mode(): SearchMode {
    return this.size <= this.exactMaxSize ? 'exact' : 'sketch';
  }

  stats(): VectorIndexStats {
    const vectors = this.vectors.bytes;
    const sketches = this.codes.bytes;
    return {
      size: this.size,
      dim: this.dim,
      mode: this.mode,
      exactMaxSize: this.exactMaxSize,
      rerank: this.rerank,
      sketchBits: this.sketch.bits,
      bytes: { vectors, sketches, total: vectors + sketches },
    };
  }

  private check(v: Float32Array, what: string): void {
    if (v.length !== this.dim) throw new RangeError(`vector-index: ${what} has ${v.length} dimensions, the index has ${this.dim}`);
  }

  private clampK(k: number): number {
    return Number.isNaN(k) ? 0 : Math.max(0, Math.min(Math.floor(k), this.size));
  }

  private hits(top: TopK): SearchHit[] {
    return top.sorted().map(({ slot, score }) => ({ key: this.keys[slot]!, score }));
  }
}
