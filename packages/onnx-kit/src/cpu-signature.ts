import os from 'node:os';
import ort from 'onnxruntime-node';
import { parseCpuInfoFields, readCpuInfoFields } from '@lookout/service-kit';

// What a calibration is valid for: the CPU (model and the SIMD flags that change kernels) and the runtime.

/** CPU flags that change which kernels onnxruntime (MLAS) runs; others do not enter the cache key. */
const RELEVANT_FLAGS = new Set([
  'sse4_1', 'sse4_2', 'avx', 'avx2', 'fma', 'f16c',
  'avx512f', 'avx512bw', 'avx512dq', 'avx512vl', 'avx512_vnni', 'avx_vnni', 'avx512_bf16', 'avx512_fp16',
  'amx_tile', 'amx_int8', 'amx_bf16', 'amx_fp16',
  // arm64 (/proc/cpuinfo "Features")
  'asimd', 'asimdhp', 'asimddp', 'i8mm', 'bf16', 'sve', 'sve2', 'sme',
]);

export interface CpuSignature {
  /** e.g. "AMD EPYC (AuthenticAMD family 26 model 2)". */
  model: string;
  /** The relevant SIMD flags it has, sorted. */
  flags: string[];
}

/** The CPU's model and relevant flags from /proc/cpuinfo text (fields by header name: layouts differ by kernel and architecture). */
export function parseCpuInfo(text: string): CpuSignature | undefined {
  return signatureOf(parseCpuInfoFields(text));
}

function signatureOf(fields: ReadonlyMap<string, string>): CpuSignature | undefined {
  if (fields.size === 0) return undefined;
  const name = fields.get('model name') ?? fields.get('hardware') ?? fields.get('cpu model') ?? '';
  const id = [
    fields.get('vendor_id'),
    fields.has('cpu family') ? `family ${fields.get('cpu family')}` : undefined,
    fields.has('model') ? `model ${fields.get('model')}` : undefined,
    fields.has('cpu implementer') ? `implementer ${fields.get('cpu implementer')}` : undefined,
    fields.has('cpu part') ? `part ${fields.get('cpu part')}` : undefined,
  ].filter(Boolean);
  const model = [name, id.length ? `(${id.join(' ')})` : ''].filter(Boolean).join(' ');
  const flags = (fields.get('flags') ?? fields.get('features') ?? '').split(/\s+/).filter((f) => RELEVANT_FLAGS.has(f));
  return { model: model || 'unknown', flags: [...new Set(flags)].sort() };
}

let cpuCache: CpuSignature | undefined;
export function cpuSignature(): CpuSignature {
  if (cpuCache) return cpuCache;
  cpuCache = signatureOf(readCpuInfoFields()) ?? { model: os.cpus()[0]?.model ?? 'unknown', flags: [] };
  return cpuCache;
}

export function onnxruntimeVersion(): string {
  return ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown';
}
