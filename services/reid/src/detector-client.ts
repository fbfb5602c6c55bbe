import { headers, type NatsConnection } from '@nats-io/transport-node';
import sharp from 'sharp';
import { analyzeImageReply, decodeJson, FRAME_HEADERS, subjects, type AnalyzeImageReply } from '@lookout/contracts';

export class DetectorUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DetectorUnavailableError';
  }
}

/** `detector.analyze` for one JPEG; throws DetectorUnavailableError when nobody answers. */
export async function analyzeImage(nc: NatsConnection, jpeg: Uint8Array, timeoutMs: number, room?: string): Promise<AnalyzeImageReply> {
  let h;
  if (room) {
    h = headers();
    h.set(FRAME_HEADERS.room, room);
  }
  try {
    const reply = await nc.request(subjects.detectorAnalyze(), jpeg, { timeout: timeoutMs, ...(h ? { headers: h } : {}) });
    return decodeJson(analyzeImageReply, reply.data);
  } catch (err) {
    throw new DetectorUnavailableError(`detector.analyze: ${(err as Error).message}`);
  }
}

/** The detector takes JPEG only: PNG (and anything else sharp reads) is converted. */
export async function toJpeg(bytes: Buffer): Promise<Uint8Array | undefined> {
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return bytes;
  try {
    return await sharp(bytes, { limitInputPixels: 64_000_000 }).rotate().flatten({ background: '#808080' }).jpeg({ quality: 95 }).toBuffer();
  } catch {
    return undefined;
  }
}
