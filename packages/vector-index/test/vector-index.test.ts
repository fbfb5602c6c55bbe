import { createCipheriv } from 'node:crypto';
import { SketchCodes } from '../src/hamming-kernel.js';
import { VectorIndex, type SearchHit } from '../src/vector-index.js';

/**
 * Seeded random unit vectors: uniform values from an AES-CTR keystream (native, so fast even
 * in jest's realm, where plain JS loops run several times slower), normalised.
 */
function randomVectors(n: number, dim: number, seed: number): Float32Array[] {
  const key = Buffer.alloc(16);
  key.writeUInt32LE(seed);
  const bytes = createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n * dim));
  const all = Float32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  return Array.from({ length: n }, (_, i) => {
    const v = all.subarray(i * dim, (i + 1) * dim);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

let nextSeed = 1000;
const unitVector = (dim: number): Float32Array => randomVectors(1, dim, nextSeed++)[0]!;

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

/** A unit query at cosine ≈ s to v: v mixed with independent noise. */
function nearDuplicate(v: Float32Array, s: number): Float32Array {
  const noise = unitVector(v.length);
  const q = v.map((x, i) => s * x + Math.sqrt(1 - s * s) * noise[i]!);
  const norm = Math.sqrt(dot(q, q));
  return q.map((x) => x / norm);
}

function gallery(n: number, dim: number, seed: number): Map<string, Float32Array> {
  return new Map(randomVectors(n, dim, seed).map((v, i) => [`subject-${i >> 2}/${i}`, v]));
}

function indexOf(entries: Map<string, Float32Array>, opts: { dim: number; exactMaxSize?: number; rerank?: number }): VectorIndex {
  const index = new VectorIndex(opts);
  for (const [key, v] of entries) index.add(key, v);
  return index;
}

function bruteForce(entries: Map<string, Float32Array>, q: Float32Array, k: number): SearchHit[] {
  return [...entries].map(([key, v]) => ({ key, score: dot(v, q) })).sort((a, b) => b.score - a.score).slice(0, k);
}

function expectSameHits(actual: SearchHit[], expected: SearchHit[]): void {
  expect(actual.map((h) => h.key)).toEqual(expected.map((h) => h.key));
  actual.forEach((h, i) => expect(h.score).toBeCloseTo(expected[i]!.score, 5));
}

describe('VectorIndex, exact mode', () => {
  const entries = gallery(1500, 64, 1);
  const index = indexOf(entries, { dim: 64 });

  it('returns the true top-k, best first, with exact cosine scores', () => {
    expect(index.stats().mode).toBe('exact');
    for (let i = 0; i < 20; i++) {
      const q = unitVector(64);
      expectSameHits(index.search(q, 10), bruteForce(entries, q, 10));
    }
  });

  it('returns everything when k exceeds the size, and nothing for k <= 0 or an empty index', () => {
    const q = unitVector(64);
    expectSameHits(index.search(q, 5000), bruteForce(entries, q, 1500));
    expect(index.search(q, 0)).toEqual([]);
    expect(index.search(q, -3)).toEqual([]);
    expect(new VectorIndex({ dim: 64 }).search(q, 10)).toEqual([]);
  });
});

describe('VectorIndex, add / replace / remove', () => {
  it('replaces the vector of an existing key without growing', () => {
    const index = new VectorIndex({ dim: 32 });
    const [a, b] = [unitVector(32), unitVector(32)];
    index.add('s/1', a);
    index.add('s/1', b);
    expect(index.size).toBe(1);
    expect(index.search(b, 1)[0]!.score).toBeCloseTo(1, 5);
  });

  it('copies the vector, so the caller may reuse its buffer', () => {
    const index = new VectorIndex({ dim: 32 });
    const buf = unitVector(32);
    const kept = buf.slice();
    index.add('s/1', buf);
    buf.set(unitVector(32));
    expect(index.search(kept, 1)[0]!.score).toBeCloseTo(1, 5);
  });

  it.each([['exact', Infinity], ['sketch', 0]])('never returns a removed key (%s mode); size and has() follow', (_mode, exactMaxSize) => {
    const entries = gallery(400, 128, 5);
    const index = indexOf(entries, { dim: 128, exactMaxSize, rerank: 50 });
    const removed = [...entries.keys()].filter((_, i) => i % 3 === 0);
    for (const key of removed) expect(index.remove(key)).toBe(true);
    expect(index.remove(removed[0]!)).toBe(false);
    expect(index.size).toBe(400 - removed.length);
    expect(index.has(removed[1]!)).toBe(false);
    for (const key of removed) {
      const hits = index.search(entries.get(key)!, 400);
      expect(hits).toHaveLength(index.size);
      expect(hits.some((h) => h.key === key)).toBe(false);
    }
    // Survivors (some moved into freed slots) are still found with their own vectors.
    for (const key of [...entries.keys()].filter((k) => !removed.includes(k))) {
      expect(index.search(entries.get(key)!, 1)[0]).toEqual({ key, score: expect.closeTo(1, 5) });
    }
  });

  it('releases the memory of removed vectors', () => {
    const entries = gallery(20_000, 16, 6);
    const index = indexOf(entries, { dim: 16 });
    const full = index.stats().bytes;
    for (const key of [...entries.keys()].slice(1000)) index.remove(key);
    expect(index.stats().bytes.vectors).toBeLessThan(full.vectors / 4);
    expect(index.stats().bytes.sketches).toBeLessThan(full.sketches / 2);
    for (const key of entries.keys()) index.remove(key);
    expect(index.size).toBe(0);
    expect(index.stats().bytes.vectors).toBe(0);
  });

  it('finds a vector as soon as add returns, on a large index in sketch mode', () => {
    const entries = gallery(2000, 512, 7);
    const index = indexOf(entries, { dim: 512, exactMaxSize: 1000 });
    expect(index.stats().mode).toBe('sketch');
    for (let i = 0; i < 20; i++) {
      const v = unitVector(512);
      index.add(`new/${i}`, v);
      expect(index.search(nearDuplicate(v, 0.6), 3)[0]?.key).toBe(`new/${i}`);
    }
  });
});

describe('VectorIndex, sketch mode', () => {
  it('finds planted near-duplicates with high recall, with exact scores', () => {
    const entries = gallery(8000, 512, 9);
    const keys = [...entries.keys()];
    // Few re-ranked candidates (0.25% of the gallery), so the sketches must do the work.
    const index = indexOf(entries, { dim: 512, exactMaxSize: 0, rerank: 20 });
    expect(index.stats().mode).toBe('sketch');
    let found = 0;
    const queries = 100;
    for (let i = 0; i < queries; i++) {
      const key = keys[(i * 7919) % keys.length]!;
      const q = nearDuplicate(entries.get(key)!, 0.5);
      const hits = index.search(q, 5);
      if (hits[0]?.key === index.searchExact(q, 1)[0]?.key) found++;
      for (const h of hits) expect(h.score).toBeCloseTo(dot(entries.get(h.key)!, q), 5);
    }
    // Measured 1.0 at 1M vectors (bench/gallery.mjs); 0.9 leaves room for an unlucky seed.
    expect(found / queries).toBeGreaterThanOrEqual(0.9);
  });

  it('equals exact search when every vector is re-ranked, for dims that are not a power of two', () => {
    const entries = gallery(3000, 100, 11);
    const index = indexOf(entries, { dim: 100, exactMaxSize: 0 });
    for (let i = 0; i < 10; i++) {
      const q = unitVector(100);
      expectSameHits(index.searchSketch(q, 10, Infinity), index.searchExact(q, 10));
    }
  });

  it('switches from exact to sketch search past exactMaxSize', () => {
    const entries = gallery(101, 64, 13);
    const index = indexOf(new Map([...entries].slice(0, 100)), { dim: 64, exactMaxSize: 100 });
    expect(index.stats().mode).toBe('exact');
    const [key, v] = [...entries].at(-1)!;
    index.add(key, v);
    expect(index.stats()).toMatchObject({ mode: 'sketch', size: 101 });
  });
});

describe('SketchCodes.nearest', () => {
  it('returns exactly the requested number of nearest sketches, ties broken by slot', () => {
    const codes = new SketchCodes(128);
    // Slot i differs from the all-zero query in popcount(i) low bits: 0,1,1,2,1,2,2,3,…
    codes.reserve(16);
    for (let i = 0; i < 16; i++) {
      const { words, at } = codes.view(i);
      words[at] = i;
    }
    expect([...codes.nearest(16, 1)]).toEqual([0]);
    expect([...codes.nearest(16, 3)]).toEqual([0, 1, 2]);
    expect([...codes.nearest(16, 5)]).toEqual([0, 1, 2, 4, 8]);
    expect([...codes.nearest(16, 7)]).toEqual([0, 1, 2, 3, 4, 5, 8]);
    expect([...codes.nearest(10, 100)]).toHaveLength(10);
  });
});

describe('VectorIndex, input checks', () => {
  it('rejects vectors and queries of the wrong dimension with a clear error', () => {
    const index = new VectorIndex({ dim: 512 });
    expect(() => index.add('s/1', new Float32Array(128))).toThrow('vector-index: vector has 128 dimensions, the index has 512');
    expect(() => index.search(new Float32Array(511), 1)).toThrow('vector-index: query has 511 dimensions, the index has 512');
    expect(() => new VectorIndex({ dim: 0 })).toThrow(/dim must be a positive integer/);
  });

  it('rejects non-finite values', () => {
    const v = new Float32Array(8).fill(0.5);
    v[3] = NaN;
    expect(() => new VectorIndex({ dim: 8 }).add('s/1', v)).toThrow(/non-finite/);
  });
});
