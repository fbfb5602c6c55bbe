import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { EXPRESSION_LABELS, iou, type DetectedFace } from '@lookout/contracts';
import { BadFrameError, decodeFrame } from '../src/pipeline/frame-decoder.js';
import { CadenceTracker } from '../src/pipeline/cadence.js';
import { FacePipeline } from '../src/pipeline/face-pipeline.js';
import { loadModels, defaultSettings, type LoadedModels } from '../src/models/models.js';
import { loadConfig } from '@lookout/service-kit';
import { DetectorConfig } from '../src/config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = path.resolve(ROOT, 'test/fixtures/faces');
type Box = [number, number, number, number];
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as {
  group: Array<{ file: string; faces: number; boxes: Box[]; ambiguous_boxes: Box[]; split: 'tune' | 'test' }>;
  expressions: Array<{ file: string; label: string; split: 'tune' | 'test' }>;
};
const fixture = (p: string) => fs.readFileSync(path.join(FIXTURES, p));

describe('frame decoding rejects bad input with a reason', () => {
  const jpeg = fixture('group/fa_bbt4.jpg');
  const reason = async (data: Uint8Array) => {
    try {
      await decodeFrame(data, 1280);
      return 'decoded';
    } catch (err) {
      expect(err).toBeInstanceOf(BadFrameError);
      return (err as BadFrameError).reason;
    }
  };
  it('decodes a real JPEG to RGB, downscaling past the limit', async () => {
    const meta = await sharp(jpeg).metadata();
    const full = await decodeFrame(jpeg, 1280);
    expect([full.width, full.height, full.scale, full.image.data.length]).toEqual([meta.width, meta.height, 1, meta.width! * meta.height! * 3]);
    const small = await decodeFrame(jpeg, 400);
    expect(Math.max(small.image.width, small.image.height)).toBe(400);
    expect(small.scale).toBeCloseTo(400 / Math.max(meta.width!, meta.height!), 3);
  });
  it('rejects non-JPEG bytes', async () => expect(await reason(Buffer.from('hello world'))).toBe('not_jpeg'));
  it('rejects a PNG', async () => expect(await reason(fixture('identities/amy/fa_amy1.png'))).toBe('not_jpeg'));
  it('rejects a truncated JPEG', async () => expect(await reason(jpeg.subarray(0, jpeg.length >> 1))).toBe('corrupt'));
  it('rejects a header-only JPEG', async () => expect(await reason(jpeg.subarray(0, 600))).toBe('corrupt'));
  it('rejects absurd dimensions', async () => {
    const big = await sharp({ create: { width: 5000, height: 8, channels: 3, background: '#000' } }).jpeg().toBuffer();
    expect(await reason(big)).toBe('bad_dimensions');
  });
  it('rejects oversized bodies before decoding', async () => {
    const huge = Buffer.concat([jpeg.subarray(0, 4), Buffer.alloc(5 * 1024 * 1024)]);
    expect(await reason(huge)).toBe('too_large');
  });
});

describe('the analyzers on the fixtures', () => {
  let models: LoadedModels;
  let pipeline: FacePipeline;
  const config = loadConfig(DetectorConfig, { MODELS_DIR: path.join(ROOT, 'models'), MIN_FACE_SIZE: '0' });
  const settings = defaultSettings(config);
  const analyze = async (jpeg: Uint8Array) => pipeline.analyze(jpeg, settings);
  const only = async (jpeg: Uint8Array): Promise<DetectedFace> => {
    const { faces } = await analyze(jpeg);
    expect(faces).toHaveLength(1);
    return faces[0]!;
  };

  beforeAll(async () => {
    models = await loadModels(config);
    pipeline = new FacePipeline(models.detector, models.analyzers, new CadenceTracker(), config.maxAnalysisSide);
  });
  afterAll(() => models.close());

  // Accuracy is checked on the test half of test/fixtures/faces/split.json only (the half no
  // threshold was tuned on); bounds are what that half gives, with the margins docs/accuracy.md states.
  it('finds 19 of the 21 annotated faces of the test-half group photos (IoU ≥ 0.5) with no false positive', async () => {
    let found = 0;
    let falsePositives = 0;
    let annotated = 0;
    for (const g of manifest.group.filter((x) => x.split === 'test')) {
      const { faces } = await analyze(fixture(g.file));
      annotated += g.boxes.length;
      found += g.boxes.filter((b) => faces.some((f) => iou(f.box, b) >= 0.5)).length;
      falsePositives += faces.filter((f) => ![...g.boxes, ...g.ambiguous_boxes].some((b) => iou(f.box, b) >= 0.5)).length;
    }
    expect(annotated).toBe(21);
    // Measured 19 (the two missed faces are cut by the frame edge in df_selfie-many-people.jpg): margin 0.
    expect(found).toBeGreaterThanOrEqual(19);
    // Measured 0; the first false positive appears at confidence 0.40, far below the configured 0.65: margin 0.
    expect(falsePositives).toBe(0);
  });

  it('reads roll of the right sign within 8° for a face rotated ±20° in-plane', async () => {
    const src = fixture('expressions/fa_neutral.jpg');
    const base = (await only(src)).pose!.roll;
    for (const angle of [20, -20]) {
      const rotated = await sharp(src).rotate(angle, { background: '#808080' }).jpeg().toBuffer();
      const roll = (await only(rotated)).pose!.roll;
      expect(Math.sign(roll)).toBe(Math.sign(angle));
      expect(Math.abs(roll - base - angle)).toBeLessThanOrEqual(8);
    }
  });

  it('flips the sign of yaw for a mirrored face', async () => {
    for (const file of ['identities/barack_obama/fr_obama1.jpg', 'expressions/fa_happy.jpg']) {
      const yaw = (await only(fixture(file))).pose!.yaw;
      const mirrored = (await only(await sharp(fixture(file)).flop().jpeg().toBuffer())).pose!.yaw;
      expect(Math.abs(yaw)).toBeGreaterThan(5);
      expect(Math.sign(mirrored)).toBe(-Math.sign(yaw));
    }
  });

  it('reads the test-half expression photos: 5 of 7 right, 6 of 7 in the top two, each class no worse than measured', async () => {
    // One labelled image per class (all in the test half): a per-class recall is 0 or 1, so each
    // class is checked by the rank of its true label among the 7 probabilities (measured with fp32
    // and int8 alike except disgust: its label ranks 3rd with int8, 4th with fp32; disgusted reads
    // as sad, sad as fear with sad second).
    const model: Record<string, string> = { disgusted: 'disgust', fearful: 'fear', surprised: 'surprise' };
    const maxRank: Record<string, number> = { angry: 1, disgust: 4, fear: 1, happy: 1, neutral: 1, sad: 2, surprise: 1 };
    const test = manifest.expressions.filter((e) => e.split === 'test');
    expect(test.map((e) => model[e.label] ?? e.label).sort()).toEqual([...EXPRESSION_LABELS].sort());
    let right = 0;
    let topTwo = 0;
    for (const e of test) {
      const truth = model[e.label] ?? e.label;
      const { label, probabilities } = (await only(fixture(e.file))).expression!;
      const own = probabilities[truth as keyof typeof probabilities];
      expect(own).toBeDefined();
      const rank = 1 + Object.values(probabilities).filter((p) => p > own!).length;
      expect([e.label, rank]).toEqual([e.label, Math.min(rank, maxRank[truth]!)]);
      if (label === truth) right++;
      if (rank <= 2) topTwo++;
    }
    expect(right).toBeGreaterThanOrEqual(5);
    expect(topTwo).toBeGreaterThanOrEqual(6);
  });

  it('reports both eyes open on a frontal face, liveness, landmarks inside the box and a decodable aligned crop', async () => {
    const face = await only(fixture('expressions/fa_neutral.jpg'));
    expect(face.eyes).toMatchObject({ bothClosed: false });
    expect(face.eyes!.leftOpen).toBeGreaterThan(0.5);
    expect(face.liveness!.score).toBeGreaterThan(0.5);
    const [x1, y1, x2, y2] = face.box;
    const lm = face.landmarks!;
    for (let i = 0; i < 68; i++) {
      expect(lm[2 * i]!).toBeGreaterThan(x1 - 0.1 * (x2 - x1));
      expect(lm[2 * i + 1]!).toBeLessThan(y2 + 0.1 * (y2 - y1));
    }
    const crop = await sharp(Buffer.from(face.crop!.data, 'base64')).metadata();
    expect([crop.format, crop.width, crop.height]).toEqual(['jpeg', 112, 112]);
  });

  it('puts off a slow analyzer on a replica with a backlog until it is a whole interval late, but runs one never run at once', async () => {
    const neutral = fixture('expressions/fa_neutral.jpg');
    const ran = async (captureMs: number, backlog: boolean) => {
      const r = await pipeline.analyze(neutral, settings, { key: 'backlog', captureMs, backlog });
      return ['expression', 'liveness', 'text'].filter((k) => k in r.timings);
    };
    // First frame of the stream, backlog or not: expression (never run) runs.
    expect(await ran(10_000, true)).toEqual(['expression']);
    expect(await ran(10_200, false)).toEqual(['liveness']);
    expect(await ran(10_400, false)).toEqual(['text']);
    // Expression is due again at 11,000: with a backlog it waits until it is a second late.
    expect(await ran(11_100, true)).toEqual([]);
    expect(await ran(11_900, true)).toEqual([]);
    expect(await ran(12_000, true)).toEqual(['expression']);
    // Without a backlog a due analyzer runs on the first frame that has the slot.
    expect(await ran(12_300, false)).toEqual(['liveness']);
  });
});
