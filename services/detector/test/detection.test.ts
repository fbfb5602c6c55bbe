import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { BadFrameError, decodeFrame } from '../src/frame-decoder.js';
import { FaceDetector } from '../src/face-detector.js';
import { FrameAnalyzer } from '../src/frame-analyzer.js';
import { iou } from '@lookout/contracts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = path.resolve(ROOT, '../shared/fixtures/faces');
type Box = [number, number, number, number];
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as {
  group: Array<{ file: string; faces: number; boxes: Box[]; ambiguous_boxes: Box[] }>;
};

describe('frame decoding rejects bad input with a reason', () => {
  const jpeg = fs.readFileSync(path.join(FIXTURES, 'group/fa_bbt4.jpg'));
  const reason = async (data: Uint8Array) => {
    try {
      await decodeFrame(data, 320, 240);
      return 'decoded';
    } catch (err) {
      expect(err).toBeInstanceOf(BadFrameError);
      return (err as BadFrameError).reason;
    }
  };
  it('decodes a real JPEG to RGB at the model size', async () => {
    const f = await decodeFrame(jpeg, 320, 240);
    const meta = await sharp(jpeg).metadata();
    expect([f.width, f.height, f.rgb.length]).toEqual([meta.width, meta.height, 320 * 240 * 3]);
  });
  it('rejects non-JPEG bytes', async () => expect(await reason(Buffer.from('hello world'))).toBe('not_jpeg'));
  it('rejects a PNG', async () => expect(await reason(fs.readFileSync(path.join(FIXTURES, 'identities/amy/fa_amy1.png')))).toBe('not_jpeg'));
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

describe('face detection on the group fixtures', () => {
  let analyzer: FrameAnalyzer;
  let detector: FaceDetector;
  beforeAll(async () => {
    detector = await FaceDetector.load({ modelPath: path.join(ROOT, 'models/fr_detect.onnx'), confidence: 0.65, nmsIou: 0.4, minFaceSize: 0, threads: 1 });
    analyzer = new FrameAnalyzer(detector);
  });
  afterAll(() => detector.close());

  it('finds at least 37 of the 39 annotated faces with no false positive', async () => {
    let found = 0;
    let falsePositives = 0;
    let annotated = 0;
    for (const g of manifest.group) {
      const result = await analyzer.analyze(fs.readFileSync(path.join(FIXTURES, g.file)));
      annotated += g.boxes.length;
      found += g.boxes.filter((b) => result.faces.some((f) => iou(f.box, b) >= 0.3)).length;
      falsePositives += result.faces.filter((f) => ![...g.boxes, ...g.ambiguous_boxes].some((b) => iou(f.box, b) >= 0.3)).length;
    }
    expect(annotated).toBe(39);
    expect(found).toBeGreaterThanOrEqual(37);
    expect(falsePositives).toBe(0);
  });
});
