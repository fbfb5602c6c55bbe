import sharp, { type Metadata, type Sharp } from 'sharp';
import { FRAME_LIMITS, jpegSize, LookoutError } from '@lookout/contracts';
import type { RgbImage } from './sampler.js';

// sharp's own cache and threads would compete with onnxruntime for the same cores.
sharp.cache(false);
sharp.concurrency(1);

export type BadFrameReason = 'not_jpeg' | 'too_large' | 'bad_dimensions' | 'corrupt';

/**
 * A frame that cannot be analysed. Its reason is its error code (the same on a
 * `detector.analyze` error reply) and the `reason` label of the bad-messages metric.
 */
export class BadFrameError extends LookoutError {
  constructor(
    readonly reason: BadFrameReason,
    detail: string,
  ) {
    super(reason, `bad frame (${reason}): ${detail}`);
    this.name = 'BadFrameError';
  }
}

export interface DecodedFrame {
  /** Size of the JPEG as sent. */
  width: number;
  height: number;
  /** The pixels analysed: the JPEG, downscaled when its longer side exceeds the limit. */
  image: RgbImage;
  /** image size / original size (1 unless downscaled). */
  scale: number;
}

/** Cheap header checks before handing bytes to libjpeg. */
export function checkJpeg(data: Uint8Array): void {
  if (data.length > FRAME_LIMITS.maxBytes) throw new BadFrameError('too_large', `${data.length} bytes > ${FRAME_LIMITS.maxBytes}`);
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8 || data[2] !== 0xff) {
    throw new BadFrameError('not_jpeg', 'missing JPEG SOI marker');
  }
}

/**
 * Decodes a JPEG to interleaved RGB, downscaled so its longer side is at most `maxSide`
 * (crops for the face models come from this image, so it keeps full camera resolution up
 * to the limit). A truncated or corrupt JPEG is an error, not a grey half-image.
 */
export async function decodeFrame(data: Uint8Array, maxSide: number): Promise<DecodedFrame> {
  checkJpeg(data);
  const image = sharp(data, { failOn: 'truncated', limitInputPixels: FRAME_LIMITS.maxWidth * FRAME_LIMITS.maxHeight });
  // The size from the JPEG's SOF marker, read here: asking libvips (metadata()) costs a
  // header parse and a thread-pool round trip per frame; it is asked only when no SOF is found.
  const { width, height } = jpegSize(data) ?? (await metadataOf(image));
  if (!width || !height || width > FRAME_LIMITS.maxWidth || height > FRAME_LIMITS.maxHeight) {
    throw new BadFrameError('bad_dimensions', `${width}×${height}`);
  }
  const scale = Math.min(1, maxSide / Math.max(width, height));
  let pipeline = image.removeAlpha().toColourspace('srgb');
  if (scale < 1) pipeline = pipeline.resize(Math.round(width * scale), Math.round(height * scale), { fit: 'fill' });
  try {
    const { data: rgb, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    return { width, height, scale, image: { width: info.width, height: info.height, data: rgb } };
  } catch (err) {
    throw new BadFrameError('corrupt', (err as Error).message);
  }
}

async function metadataOf(image: Sharp): Promise<Metadata> {
  try {
    return await image.metadata();
  } catch (err) {
    throw new BadFrameError('corrupt', (err as Error).message);
  }
}
