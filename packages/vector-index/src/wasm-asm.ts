/**
 * Just enough of a WebAssembly binary encoder to emit the index's scan kernels at run time
 * (hamming-kernel.ts). WebAssembly gives the scan a native 64-bit popcount, which plain JS
 * lacks (a bit-twiddled popcount made the 1M scan ~20× slower), without an npm dependency
 * or a build step. Only MVP instructions are used. Format:
 * https://webassembly.github.io/spec/core/binary/
 */
export type Bytes = readonly number[];

export const I32 = 0x7f;
export const I64 = 0x7e;

/** Unsigned LEB128. */
export function uleb(n: number): Bytes {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32.const immediates). */
export function sleb(n: number): Bytes {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: Bytes[]): Bytes => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: Bytes): Bytes => [id, ...uleb(content.length), ...content];
const name = (s: string): Bytes => vec([...new TextEncoder().encode(s)].map((b) => [b]));
/** memarg: alignment as log2 bytes, then a constant offset added to the address operand. */
const mem = (code: number, alignLog2: number) => (offset = 0): Bytes => [code, alignLog2, ...uleb(offset)];

export const op = {
  localGet: (i: number): Bytes => [0x20, ...uleb(i)],
  localSet: (i: number): Bytes => [0x21, ...uleb(i)],
  localTee: (i: number): Bytes => [0x22, ...uleb(i)],
  i32Const: (v: number): Bytes => [0x41, ...sleb(v)],
  i32Load: mem(0x28, 2),
  i64Load: mem(0x29, 3),
  i32Load16U: mem(0x2f, 1),
  i32Store: mem(0x36, 2),
  i32Store16: mem(0x3b, 1),
  i32Eqz: [0x45],
  i32Eq: [0x46],
  i32Ne: [0x47],
  i32LtU: [0x49],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32And: [0x71],
  i32Shl: [0x74],
  i64Popcnt: [0x7b],
  i64Add: [0x7c],
  i64Xor: [0x85],
  i32WrapI64: [0xa7],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  brIf: (depth: number): Bytes => [0x0d, ...uleb(depth)],
} as const;

export interface WasmFunction {
  name: string;
  params: number[];
  results: number[];
  /** Types of the extra locals, numbered after the params. */
  locals: number[];
  body: Bytes[];
}

/** Run-length groups of local types, as the code section wants them. */
function localGroups(types: number[]): Bytes {
  const groups: Bytes[] = [];
  for (let i = 0; i < types.length; ) {
    let j = i;
    while (j < types.length && types[j] === types[i]) j++;
    groups.push([...uleb(j - i), types[i]!]);
    i = j;
  }
  return vec(groups);
}

/**
 * A module with the given functions (each with its own type) exported by name, importing
 * its linear memory as `env.memory`. The host makes the memory: see SketchCodes.reserve for
 * why it is never grown in place.
 */
export function encodeModule(funcs: WasmFunction[]): Uint8Array {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]);
  const bodies = funcs.map((f) => {
    const code = [...localGroups(f.locals), ...f.body.flat(), ...op.end];
    return [...uleb(code.length), ...code];
  });
  const exports = funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]);
  const memoryImport = [...name('env'), ...name('memory'), 0x02, 0x00, 1];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec([memoryImport])),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, vec(exports)),
    ...section(10, vec(bodies)),
  ]);
}
