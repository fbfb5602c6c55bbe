import { execFileSync } from 'node:child_process';
import { jpegSize } from '@lookout/contracts';
import { FIXTURES } from '@lookout/testkit';
import { JpegSplitter } from '../src/jpeg-splitter.js';

/** A minimal JPEG: SOI, an APP0 segment holding `payload`, SOS with `scan` data, EOI. */
function jpeg(payload: number[], scan: number[]): Buffer {
  const app = [0xff, 0xe0, 0x00, payload.length + 2, ...payload];
  const sos = [0xff, 0xda, 0x00, 0x02];
  return Buffer.from([0xff, 0xd8, ...app, ...sos, ...scan, 0xff, 0xd9]);
}

describe('JpegSplitter (a job\'s MJPEG stream into frames)', () => {
  it('is not fooled by FFD9 inside a segment or stuffed bytes in the scan, nor by chunk edges', () => {
    const a = jpeg([0xff, 0xd9, 0x01], [0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56]);
    const b = jpeg([0x00], [0x78]);
    const stream = Buffer.concat([Buffer.from([0x00, 0x01]), a, b]);
    for (const chunk of [1, 3, 7, stream.length]) {
      const out: Buffer[] = [];
      const s = new JpegSplitter((f) => out.push(f));
      for (let i = 0; i < stream.length; i += chunk) s.push(stream.subarray(i, i + chunk));
      expect(out).toEqual([a, b]);
    }
  });

  it('splits what ffmpeg writes for the two-person video at 5 fps into 60 whole JPEGs', () => {
    const mjpeg = execFileSync(
      'ffmpeg',
      ['-nostdin', '-v', 'error', '-i', `${FIXTURES}/video/two-people-sequential-640x480-15fps.webm`, '-map', '0:v:0', '-vf', 'fps=5', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', 'pipe:1'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const out: Buffer[] = [];
    const s = new JpegSplitter((f) => out.push(f));
    for (let i = 0; i < mjpeg.length; i += 65_536) s.push(mjpeg.subarray(i, i + 65_536));
    expect(out).toHaveLength(60);
    expect(out.every((f) => jpegSize(f)?.width === 640 && f.at(-2) === 0xff && f.at(-1) === 0xd9)).toBe(true);
    expect(out.reduce((n, f) => n + f.length, 0)).toBe(mjpeg.length);
  });
});
