import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chooseVariant,
  compareOutputs,
  createModelSession,
  mergeFastest,
  parseCpuInfo,
  SETTLE_RUNS,
  synthesizeInput,
  type CalibrationEntry,
  type VariantTiming,
} from '@lookout/onnx-kit';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const agree = { agrees: true, maxAbsDiff: 0, minCosine: 1 };
const differ = { agrees: false, maxAbsDiff: 1, minCosine: 0.5, reason: 'outputs differ' };

describe('choosing a variant from timings and outputs', () => {
  it('takes the fastest variant whose outputs agree', () => {
    // The Sapphire Rapids case: 'all' is 3× slower on fr_feature.
    const t: VariantTiming[] = [
      { optimization: 'disabled', ms: 21, agreement: agree },
      { optimization: 'basic', ms: 19.5, agreement: agree },
      { optimization: 'extended', ms: 20, agreement: agree },
      { optimization: 'all', ms: 58, agreement: agree },
    ];
    expect(chooseVariant(t)?.optimization).toBe('basic');
    // The AMD case: 'all' wins clearly.
    expect(chooseVariant([t[0]!, t[1]!, t[2]!, { ...t[3]!, ms: 8.7 }])?.optimization).toBe('all');
  });

  it('never takes a faster variant whose outputs differ', () => {
    const t: VariantTiming[] = [
      { optimization: 'disabled', ms: 10, agreement: agree },
      { optimization: 'all', ms: 2, agreement: differ },
    ];
    expect(chooseVariant(t)?.optimization).toBe('disabled');
    expect(chooseVariant([{ optimization: 'all', ms: 2, agreement: differ }])).toBeUndefined();
  });

  it('takes an alternative (int8) only when it is faster beyond the noise', () => {
    const fp32: VariantTiming = { optimization: 'all', ms: 8.5, agreement: agree };
    expect(chooseVariant([fp32, { optimization: 'extended', precision: 'int8', ms: 7.2, agreement: agree }])).toMatchObject({ precision: 'int8', optimization: 'extended' });
    expect(chooseVariant([fp32, { optimization: 'extended', precision: 'int8', ms: 8.3, agreement: agree }])?.precision ?? 'fp32').toBe('fp32');
    expect(chooseVariant([fp32, { optimization: 'extended', precision: 'int8', ms: 4, agreement: differ }])?.precision ?? 'fp32').toBe('fp32');
  });

  it('merges measurements by the fastest time per variant, by name (precision/level)', () => {
    const now: VariantTiming[] = [
      { optimization: 'all', ms: 9, agreement: agree },
      { optimization: 'basic', ms: 3, agreement: agree },
      { optimization: 'all', precision: 'int8', ms: 5, agreement: agree },
    ];
    const merged = mergeFastest(now, { all: 2, basic: 4, 'int8/all': 7, extended: 1 });
    expect(merged.map((t) => t.ms)).toEqual([2, 3, 5]);
    expect(chooseVariant(merged)).toMatchObject({ optimization: 'all', ms: 2 });
  });

  it('settles ties within the noise for the lower optimization level', () => {
    const t: VariantTiming[] = [
      { optimization: 'disabled', ms: 3.57, agreement: agree },
      { optimization: 'all', ms: 3.47, agreement: agree },
    ];
    expect(chooseVariant(t)?.optimization).toBe('disabled');
    expect(chooseVariant(t, 0.01)?.optimization).toBe('all');
  });
});

describe('comparing outputs', () => {
  it('accepts float rounding, rejects real differences', () => {
    const ref = { out: Float32Array.from([0.3, -0.2, 0.1, 5]) };
    expect(compareOutputs(ref, { out: Float32Array.from([0.3000003, -0.2, 0.1000001, 5.000004]) }).agrees).toBe(true);
    expect(compareOutputs(ref, { out: Float32Array.from([0.3, -0.2, 0.1, 5.1]) }).agrees).toBe(false);
    expect(compareOutputs(ref, { out: Float32Array.from([0.3, -0.2, 0.1]) }).agrees).toBe(false);
    expect(compareOutputs(ref, { other: Float32Array.from([0.3, -0.2, 0.1, 5]) }).agrees).toBe(false);
    expect(compareOutputs(ref, { out: Float32Array.from([0.3, -0.2, NaN, 5]) }).agrees).toBe(false);
  });

  it('checks the direction of an embedding (cosine) as well as the largest difference', () => {
    const ref = { v: Float32Array.from({ length: 512 }, (_, i) => Math.sin(i) * 0.05) };
    // Every component off by 4e-5 (under the absolute bound), with a sign pattern that turns the vector.
    const turned = { v: ref.v.map((x, i) => x + (i % 2 ? 4e-5 : -4e-5) * 50 * Math.abs(x)) };
    expect(compareOutputs(ref, turned, { atol: 1e-4, rtol: 1e-3, minCosine: 0.99999999 }).agrees).toBe(false);
    expect(compareOutputs(ref, turned).agrees).toBe(true);
  });

  it('does not judge the direction of an output that is ~0 everywhere', () => {
    const ref = { p: Float32Array.from([1e-7, 2e-7, 0, 1e-7]) };
    expect(compareOutputs(ref, { p: Float32Array.from([2e-7, 1e-7, 1e-7, 0]) }).agrees).toBe(true);
  });
});

describe('reading /proc/cpuinfo by header names', () => {
  it('an Intel Sapphire Rapids block', () => {
    const text = [
      'processor\t: 0',
      'vendor_id\t: GenuineIntel',
      'cpu family\t: 6',
      'model\t\t: 143',
      'model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz',
      'flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw avx512vl avx512_vnni avx_vnni amx_tile amx_int8 amx_bf16 ht',
      '',
      'processor\t: 1',
      'model name\t: something else',
    ].join('\n');
    expect(parseCpuInfo(text)).toEqual({
      model: 'Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz (GenuineIntel family 6 model 143)',
      flags: ['amx_bf16', 'amx_int8', 'amx_tile', 'avx', 'avx2', 'avx512_vnni', 'avx512bw', 'avx512f', 'avx512vl', 'avx_vnni', 'fma', 'sse4_2'],
    });
  });

  it('headers in another order, and an arm64 block', () => {
    const amd = 'flags : avx2 avx512f avx512_vnni\nmodel name : AMD EPYC\nmodel : 2\nvendor_id : AuthenticAMD\ncpu family : 26\n';
    expect(parseCpuInfo(amd)).toEqual({ model: 'AMD EPYC (AuthenticAMD family 26 model 2)', flags: ['avx2', 'avx512_vnni', 'avx512f'] });
    const arm = 'processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd asimddp i8mm sve\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n';
    expect(parseCpuInfo(arm)).toEqual({ model: '(implementer 0x41 part 0xd0c)', flags: ['asimd', 'asimddp', 'i8mm', 'sve'] });
    expect(parseCpuInfo('')).toBeUndefined();
  });
});

describe('the probe input', () => {
  it('is deterministic, in [−1, 1], with no zeros', () => {
    const a = synthesizeInput([1, 3, 16, 16]);
    expect(Array.from(a)).toEqual(Array.from(synthesizeInput([1, 3, 16, 16])));
    expect(Math.max(...a)).toBeLessThanOrEqual(1);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-1);
    expect(a.every((x) => x !== 0)).toBe(true);
  });
});

describe('calibrating a real model (fr_eye.onnx)', () => {
  const model = path.join(ROOT, 'models/fr_eye.onnx');
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'calibration-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('measures every level once, writes the cache, then loads from it; fixed and measure modes', async () => {
    const cacheFile = path.join(dir, 'session-calibration.json');
    const logged: object[] = [];
    const gauge: Array<Record<string, string>> = [];
    // This machine may be busy while the tests run: a noisy measurement would not be cached.
    const settings = { cacheFile, noisySpread: Infinity, log: { info: (o: object) => logged.push(o), warn: () => undefined }, info: { set: (l: Record<string, string>) => gauge.push(l) } };

    const first = await createModelSession({ file: model, threads: 1 }, settings);
    expect(first.choice.source).toBe('measured');
    expect(Object.keys(first.choice.msPerVariant ?? {}).sort()).toEqual(['all', 'basic', 'disabled', 'extended']);
    const cache = JSON.parse(await readFile(cacheFile, 'utf8')) as { entries: Record<string, CalibrationEntry> };
    const entries = Object.values(cache.entries);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ model: 'fr_eye', threads: 1, optimization: first.choice.optimization });
    expect(entries[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    const out = await first.session.run({ [first.session.inputNames[0]!]: new (await import('onnxruntime-node')).default.Tensor('float32', synthesizeInput([1, 1, 24, 24]), [1, 1, 24, 24]) });
    expect(Object.keys(out).length).toBeGreaterThan(0);
    await first.session.release();

    // Until SETTLE_RUNS quiet measurements are in, each start measures again and keeps the
    // fastest time per variant seen so far; then the choice is loaded from the cache.
    let fastest = first.choice.msPerVariant!;
    for (let run = 2; run <= SETTLE_RUNS; run++) {
      const again = await createModelSession({ file: model, threads: 1 }, settings);
      expect(again.choice).toMatchObject({ source: 'measured', runs: run });
      for (const [variant, ms] of Object.entries(again.choice.msPerVariant!)) expect(ms).toBeLessThanOrEqual(fastest[variant]!);
      fastest = again.choice.msPerVariant!;
      await again.session.release();
    }
    const second = await createModelSession({ file: model, threads: 1 }, settings);
    expect(second.choice).toMatchObject({ source: 'cached', msPerVariant: fastest });
    await second.session.release();

    // Another thread count is another machine configuration: measured again, a second entry.
    const twoThreads = await createModelSession({ file: model, threads: 2 }, settings);
    expect(twoThreads.choice.source).toBe('measured');
    await twoThreads.session.release();
    expect(Object.keys((JSON.parse(await readFile(cacheFile, 'utf8')) as { entries: object }).entries)).toHaveLength(2);

    const fixed = await createModelSession({ file: model, threads: 1 }, { ...settings, mode: 'basic' });
    expect(fixed.choice).toEqual({ model: 'fr_eye', optimization: 'basic', precision: 'fp32', source: 'fixed' });
    await fixed.session.release();

    const again = await createModelSession({ file: model, threads: 1 }, { ...settings, mode: 'measure' });
    expect(again.choice.source).toBe('measured');
    await again.session.release();

    const settling = Array.from({ length: SETTLE_RUNS }, () => 'measured');
    expect(gauge.map((g) => g.source)).toEqual([...settling, 'cached', 'measured', 'fixed', 'measured']);
    expect(gauge[0]).toEqual({ model: 'fr_eye', optimization: first.choice.optimization, precision: 'fp32', source: 'measured' });
    expect(logged[0]).toMatchObject({ model: 'fr_eye', source: 'measured', options: { optimization: first.choice.optimization, threads: 1 } });
  });

  it('measures an alternative file beside the model and keeps its label in the cache', async () => {
    const cacheFile = path.join(dir, 'alt.json');
    const bytes = await readFile(model);
    const same = { atol: 1e-4, rtol: 1e-3, minCosine: 0.9999 };
    const { session, choice } = await createModelSession({ file: model, threads: 1, alternatives: [{ label: 'copy', bytes, tolerance: same }] }, { cacheFile, noisySpread: Infinity });
    expect(Object.keys(choice.msPerVariant ?? {}).sort()).toEqual(['all', 'basic', 'copy/all', 'copy/basic', 'copy/disabled', 'copy/extended', 'disabled', 'extended']);
    await session.release();
    const entry = Object.values((JSON.parse(await readFile(cacheFile, 'utf8')) as { entries: Record<string, CalibrationEntry> }).entries)[0]!;
    expect(entry.alternatives?.copy).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.precision).toBe(choice.precision);
    // Without the alternative it is another key: measured again.
    const plain = await createModelSession({ file: model, threads: 1 }, { cacheFile, noisySpread: Infinity });
    expect(plain.choice.source).toBe('measured');
    await plain.session.release();
  });

  it('leaves out an alternative that does not load', async () => {
    const warnings: object[] = [];
    const { session, choice } = await createModelSession(
      { file: model, threads: 1, alternatives: [{ label: 'int8', bytes: Uint8Array.of(1, 2, 3), tolerance: { atol: Infinity, rtol: 0, minCosine: 0.9 } }] },
      { cacheFile: path.join(dir, 'broken.json'), noisySpread: Infinity, log: { info: () => undefined, warn: (o) => warnings.push(o) } },
    );
    expect(choice.precision).toBe('fp32');
    expect(Object.keys(choice.msPerVariant ?? {})).toHaveLength(4);
    expect(warnings.length).toBeGreaterThan(0);
    await session.release();
  });

  it('does not cache a measurement whose runs spread (the machine was busy)', async () => {
    const cacheFile = path.join(dir, 'noisy.json');
    const logged: Array<Record<string, unknown>> = [];
    const log = { info: (o: object) => logged.push(o as Record<string, unknown>), warn: () => undefined };
    const { session, choice } = await createModelSession({ file: model, threads: 1 }, { cacheFile, noisySpread: 0.5, log });
    expect(choice).toMatchObject({ source: 'measured', noisy: true });
    expect(logged[0]).toMatchObject({ noisy: true });
    await session.release();
    await expect(readFile(cacheFile, 'utf8')).rejects.toThrow();
  });

  it('a choice measured on a busy machine is corrected by the next starts (fastest time per variant kept)', async () => {
    const cacheFile = path.join(dir, 'busy.json');
    const settings = { cacheFile, noisySpread: Infinity };
    const first = await createModelSession({ file: model, threads: 1 }, settings);
    await first.session.release();
    // As if that start had shared the CPU with a test run: every level 40–50 ms, 'basic' ahead.
    const cache = JSON.parse(await readFile(cacheFile, 'utf8')) as { entries: Record<string, CalibrationEntry> };
    const [key, entry] = Object.entries(cache.entries)[0]!;
    const busy = { disabled: 50, basic: 40, extended: 45, all: 48 };
    cache.entries[key] = { ...entry, optimization: 'basic', msPerVariant: busy, runs: 1 };
    await writeFile(cacheFile, JSON.stringify(cache));
    const next = await createModelSession({ file: model, threads: 1 }, settings);
    expect(next.choice).toMatchObject({ source: 'measured', runs: 2 });
    for (const [variant, ms] of Object.entries(next.choice.msPerVariant!)) expect(ms).toBeLessThan(busy[variant as keyof typeof busy]);
    await next.session.release();
  });

  it('still gives a session when the cache cannot be written', async () => {
    const warnings: object[] = [];
    const { session, choice } = await createModelSession(
      { file: model, threads: 1 },
      { cacheFile: path.join(model, 'not-a-dir', 'cache.json'), noisySpread: Infinity, log: { info: () => undefined, warn: (o) => warnings.push(o) } },
    );
    expect(choice.source).toBe('measured');
    expect(warnings).toHaveLength(1);
    await session.release();
  });
});
