// Jest runs each test file in its own realm, so a Float32Array made in a test is not an
// instance of the Float32Array native addons (onnxruntime-node) check against. Share the
// outer realm's typed-array and buffer constructors with the test realm.
import { TestEnvironment as NodeEnvironment } from 'jest-environment-node';

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

export default class SharedTypedArrayEnvironment extends NodeEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}
