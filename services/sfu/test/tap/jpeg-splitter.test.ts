import sharp from 'sharp';
import { JpegSplitter } from '@lookout/service-kit';
import { sdpForConsumer } from '../../src/tap/sdp.js';

/** A real JPEG with an APP segment whose payload holds the bytes FF D9 and FF D8. */
async function trickyJpeg(shade: number): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: shade, g: 100, b: 50 } } }).jpeg().toBuffer();
  const payload = Buffer.from([0x4c, 0x4b, 0xff, 0xd9, 0x00, 0xff, 0xd8, 0x01]);
  const app = Buffer.concat([Buffer.from([0xff, 0xe5, 0x00, payload.length + 2]), payload]);
  return Buffer.concat([jpeg.subarray(0, 2), app, jpeg.subarray(2)]);
}

describe('JpegSplitter', () => {
  it('splits a byte stream cut at arbitrary points into the original JPEGs, whatever their segments contain', async () => {
    const jpegs = await Promise.all([10, 120, 240].map(trickyJpeg));
    const stream = Buffer.concat([Buffer.from([1, 2, 3]), ...jpegs]);
    for (const chunkSize of [1, 7, 64, stream.length]) {
      const out: Buffer[] = [];
      const splitter = new JpegSplitter((j) => out.push(j));
      for (let i = 0; i < stream.length; i += chunkSize) splitter.push(stream.subarray(i, i + chunkSize));
      expect(out.map((b) => b.toString('hex'))).toEqual(jpegs.map((b) => b.toString('hex')));
    }
    for (const j of jpegs) expect((await sharp(j).metadata()).width).toBe(32);
  });

  it('resynchronises after garbage between frames and holds back an incomplete frame', async () => {
    const [a, b] = await Promise.all([trickyJpeg(10), trickyJpeg(200)]);
    expect(a!.equals(b!)).toBe(false);
    const out: Buffer[] = [];
    const splitter = new JpegSplitter((j) => out.push(j));
    splitter.push(Buffer.concat([a!, Buffer.from('garbage'), b!.subarray(0, 100)]));
    expect(out).toHaveLength(1);
    splitter.push(b!.subarray(100));
    expect(out.map((x) => x.toString('hex'))).toEqual([a!.toString('hex'), b!.toString('hex')]);
  });
});

describe('sdpForConsumer', () => {
  it('describes the tap\'s RTP for ffmpeg, with H264 format parameters', () => {
    const sdp = sdpForConsumer(
      {
        codecs: [{ mimeType: 'video/H264', payloadType: 125, clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' } }],
        encodings: [{ ssrc: 1 }],
      },
      20000,
    );
    expect(sdp).toContain('m=video 20000 RTP/AVP 125\r\n');
    expect(sdp).toContain('a=rtpmap:125 H264/90000\r\n');
    expect(sdp).toContain('a=fmtp:125 packetization-mode=1;profile-level-id=42e01f\r\n');
  });
});
