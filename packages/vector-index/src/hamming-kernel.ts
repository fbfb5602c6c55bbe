import { encodeModule, I32, I64, op, type Bytes, type WasmFunction } from './wasm-asm.js';

/**
 * `scan(codes, n, dist, hist)`: Hamming distance from the query sketch (at address 0, `words`
 * 64-bit words) to each of `n` sketches stored back to back from `codes`; writes each as a
 * u16 to `dist` and counts it in the u32 histogram `hist`, so the caller finds the distance
 * cut-off for its candidates without sorting a million numbers. The query words stay in
 * locals and the word loop is unrolled: ~2.5 ms for 1M 512-bit sketches on one core.
 */
function scanFunction(words: number): WasmFunction {
  const [codes, n, dist, hist, q0] = [0, 1, 2, 3, 4];
  const d = q0 + words;
  const loadQuery = Array.from({ length: words }, (_, w) => [...op.i32Const(0), ...op.i64Load(w * 8), ...op.localSet(q0 + w)]);
  const distance = Array.from({ length: words }, (_, w) => [
    ...op.localGet(codes), ...op.i64Load(w * 8), ...op.localGet(q0 + w), ...op.i64Xor, ...op.i64Popcnt,
    ...(w > 0 ? op.i64Add : []),
  ]);
  const step = (local: number, by: number): Bytes => [...op.localGet(local), ...op.i32Const(by), ...op.i32Add, ...op.localSet(local)];
  const body: Bytes[] = [
    ...loadQuery,
    op.block, op.localGet(n), op.i32Eqz, op.brIf(0), op.loop,
    ...distance, op.i32WrapI64, op.localSet(d),
    op.localGet(dist), op.localGet(d), op.i32Store16(),
    // hist[d] += 1 (d is reused as the bin's address)
    op.localGet(hist), op.localGet(d), op.i32Const(2), op.i32Shl, op.i32Add, op.localTee(d),
    op.localGet(d), op.i32Load(), op.i32Const(1), op.i32Add, op.i32Store(),
    step(codes, words * 8), step(dist, 2),
    op.localGet(n), op.i32Const(1), op.i32Sub, op.localTee(n), op.brIf(0),
    op.end, op.end,
  ];
  return { name: 'scan', params: [I32, I32, I32, I32], results: [], locals: [...Array<number>(words).fill(I64), I32], body };
}

/**
 * `collect(dist, n, below, eqLimit, out) -> end`: writes (as u32) the index of every distance
 * < `below` and of the first `eqLimit` distances equal to `below`; returns the end address.
 */
function collectFunction(): WasmFunction {
  const [dist, n, below, eqLimit, out, i, d] = [0, 1, 2, 3, 4, 5, 6];
  const emit: Bytes = [...op.localGet(out), ...op.localGet(i), ...op.i32Store(), ...op.localGet(out), ...op.i32Const(4), ...op.i32Add, ...op.localSet(out)];
  const body: Bytes[] = [
    op.block, op.localGet(n), op.i32Eqz, op.brIf(0), op.loop,
    op.localGet(dist), op.i32Load16U(), op.localTee(d), op.localGet(below), op.i32LtU,
    op.if, emit, op.else,
    op.localGet(d), op.localGet(below), op.i32Eq, op.localGet(eqLimit), op.i32Const(0), op.i32Ne, op.i32And,
    op.if, emit, op.localGet(eqLimit), op.i32Const(1), op.i32Sub, op.localSet(eqLimit), op.end,
    op.end,
    op.localGet(dist), op.i32Const(2), op.i32Add, op.localSet(dist),
    op.localGet(i), op.i32Const(1), op.i32Add, op.localTee(i), op.localGet(n), op.i32LtU, op.brIf(0),
    op.end, op.end,
    op.localGet(out),
  ];
  return { name: 'collect', params: [I32, I32, I32, I32, I32], results: [I32], locals: [I32, I32], body };
}

interface Kernel {
  scan(codes: number, n: number, dist: number, hist: number): void;
  collect(dist: number, n: number, below: number, eqLimit: number, out: number): number;
}

interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

/** The WebAssembly global, typed here: the project's lib (ES2023, no DOM) does not declare it. */
const wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object, imports: object) => { exports: unknown };
      Memory: new (desc: { initial: number }) => WasmMemory;
    };
  }
).WebAssembly;

const PAGE = 65536;
const align = (n: number, to: number): number => Math.ceil(n / to) * to;

/**
 * The sketches of the whole gallery, slot by slot, in one WebAssembly memory laid out as
 * [query sketch | histogram | sketches (capacity) | distances (capacity) | candidates (capacity)].
 * Only the sketch region holds data; the rest is scratch for `nearest`. Freed slots are zeroed.
 */
export class SketchCodes {
  readonly words32: number;
  private readonly module: object;
  private readonly codesAt: number;
  private readonly histBins: number;
  private capacity = 0;
  private memory!: WasmMemory;
  private kernel!: Kernel;
  private u32!: Uint32Array;

  constructor(readonly bits: number) {
    if (bits % 64 !== 0 || bits <= 0 || bits >= 65536) throw new Error(`vector-index: sketch bits must be a multiple of 64 below 65536, got ${bits}`);
    this.words32 = bits / 32;
    this.module = new wasm.Module(encodeModule([scanFunction(bits / 64), collectFunction()]));
    this.histBins = bits + 1;
    this.codesAt = align(bits / 8 + this.histBins * 4, 64);
    this.instantiate(this.candidatesAt(0));
  }

  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Makes room for `n` sketches; grows by half again so appends stay amortised O(1). */
  reserve(n: number): void {
    if (n > this.capacity) this.resize(Math.max(n, Math.ceil(this.capacity * 1.5), 1024));
  }

  /** Hands memory back once only `n` sketches are left and they fill less than a quarter. */
  release(n: number): void {
    if (this.capacity > 1024 && n < this.capacity / 4) this.resize(Math.max(2 * n, 1024));
  }

  /**
   * Moves the first min(old, new capacity) sketches to a new memory of the new capacity.
   * It never calls memory.grow: growing detaches the old buffer, and the first detach in a
   * process makes V8 add a check to every typed-array access from then on (measured: the
   * exact float32 scan got 28% slower).
   */
  private resize(capacity: number): void {
    const old = this.u32;
    const from = this.codesAt >> 2;
    this.instantiate(this.candidatesAt(capacity) + capacity * 4);
    this.u32.set(old.subarray(from, from + Math.min(capacity, this.capacity) * this.words32), from);
    old.fill(0); // no stale copy of sketches that may be removed later
    this.capacity = capacity;
  }

  /** The query's sketch goes at address 0, the slot's at its place: callers encode into these. */
  view(slot: number | 'query'): { words: Uint32Array; at: number } {
    return { words: this.u32, at: slot === 'query' ? 0 : (this.codesAt >> 2) + slot * this.words32 };
  }

  move(from: number, to: number): void {
    const a = this.view(from).at;
    this.u32.copyWithin(this.view(to).at, a, a + this.words32);
  }

  erase(slot: number): void {
    const a = this.view(slot).at;
    this.u32.fill(0, a, a + this.words32);
  }

  /**
   * Slots of the `count` sketches nearest the query sketch among slots [0, size), in slot
   * order. The returned view is only valid until the next call.
   */
  nearest(size: number, count: number): Int32Array {
    count = Math.min(count, size);
    const histAt = this.words32 * 4;
    const hist = new Uint32Array(this.memory.buffer, histAt, this.histBins);
    hist.fill(0);
    const distAt = this.distancesAt(this.capacity);
    this.kernel.scan(this.codesAt, size, distAt, histAt);
    let below = 0;
    let cut = 0;
    for (; cut < this.histBins && below + hist[cut]! < count; cut++) below += hist[cut]!;
    const candAt = this.candidatesAt(this.capacity);
    const end = this.kernel.collect(distAt, size, cut, count - below, candAt);
    return new Int32Array(this.memory.buffer, candAt, (end - candAt) >> 2);
  }

  private instantiate(bytes: number): void {
    this.memory = new wasm.Memory({ initial: Math.ceil(bytes / PAGE) });
    this.kernel = new wasm.Instance(this.module, { env: { memory: this.memory } }).exports as Kernel;
    this.u32 = new Uint32Array(this.memory.buffer);
  }

  private distancesAt(capacity: number): number {
    return this.codesAt + capacity * this.words32 * 4;
  }

  private candidatesAt(capacity: number): number {
    return align(this.distancesAt(capacity) + capacity * 2, 8);
  }
}
