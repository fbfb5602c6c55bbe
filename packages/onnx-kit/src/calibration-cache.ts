import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CpuSignature } from './cpu-signature.js';
import type { GraphOptimizationLevel } from './ort-options.js';

// The per-machine calibration cache beside the models (calibration.ts decides what goes in).

export interface CalibrationEntry {
  model: string;
  sha256: string;
  cpu: CpuSignature;
  onnxruntime: string;
  threads: number;
  input: number[][] | 'default';
  /** sha256 of each alternative offered, by label. */
  alternatives?: Record<string, string>;
  optimization: GraphOptimizationLevel;
  /** 'fp32' (the model itself) or the chosen alternative's label. */
  precision: string;
  msPerVariant: Record<string, number>;
  rejected?: Record<string, string>;
  /** Wall time of the whole measurement (sessions created, warm-up, rounds). */
  calibrationMs: number;
  measuredAt: string;
  /** Quiet measurements merged into msPerVariant (absent in older caches: 1). */
  runs?: number;
}

export interface CacheFile {
  $comment?: string;
  entries: Record<string, CalibrationEntry>;
}

export function cacheKey(e: Pick<CalibrationEntry, 'model' | 'sha256' | 'cpu' | 'onnxruntime' | 'threads' | 'input' | 'alternatives'>): string {
  return createHash('sha256')
    .update(JSON.stringify([e.model, e.sha256, e.cpu.model, e.cpu.flags, e.onnxruntime, e.threads, e.input, e.alternatives ?? {}]))
    .digest('hex')
    .slice(0, 24);
}

export async function readCache(file: string): Promise<CacheFile> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<CacheFile>;
    return { entries: parsed.entries && typeof parsed.entries === 'object' ? parsed.entries : {} };
  } catch {
    return { entries: {} };
  }
}

/** Read-merge-write through a temporary file and a rename: a reader never sees half a file; two writers at once may lose one entry, measured again next start. */
export async function writeCache(file: string, key: string, entry: CalibrationEntry): Promise<void> {
  const current = await readCache(file);
  current.entries[key] = entry;
  const out: CacheFile = {
    $comment: 'Session options measured on this machine per model, CPU, onnxruntime version and threads (@lookout/onnx-kit calibration.ts). Safe to delete: it is measured again at the next start.',
    entries: current.entries,
  };
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(out, null, 2)}\n`);
  await rename(tmp, file);
}
