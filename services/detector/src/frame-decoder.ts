import sharp, { type Metadata } from 'sharp';
import { FRAME_LIMITS } from '@lookout/contracts';

// sharp's own cache and threads would compete with onnxruntime for the same cores.
sharp.cache(false);
sharp.concurrency(1);

export type BadFrameReason = 'not_jpeg' | 'too_large' | 'bad_dimensions' | 'corrupt';

export class BadFrameError extends Error {
  constructor(
    readonly reason: BadFrameReason,
    detail: string,
  ) {
    super(`bad frame (${reason}): ${detail}`);
    this.name = 'BadFrameError';
  }
}

export interface DecodedFrame {
  /** Original size of the JPEG. */
  width: number;
  height: number;
  /** Interleaved RGB of the model input size. */
  rgb: Buffer;
  inputWidth: number;
  inputHeight: number;
}

/** Cheap header checks before handing bytes to libjpeg. */
export function checkJpeg(data: Uint8Array): void {
  if (data.length > FRAME_LIMITS.maxBytes) throw new BadFrameError('too_large', `${data.length} bytes > ${FRAME_LIMITS.maxBytes}`);
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8 || data[2] !== 0xff) {
    throw new BadFrameError('not_jpeg', 'missing JPEG SOI marker');
  }
}

/**
 * Decodes a JPEG and resizes it (stretched, as the detector was trained) to the model's
 * input size as RGB. A truncated or corrupt JPEG is an error, not a grey half-image.
 */
export async function decodeFrame(data: Uint8Array, inputWidth: number, inputHeight: number): Promise<DecodedFrame> {
  checkJpeg(data);
  const image = sharp(data, { failOn: 'truncated', limitInputPixels: FRAME_LIMITS.maxWidth * FRAME_LIMITS.maxHeight });
  let meta: Metadata;
  try {
    meta = await image.metadata();
  } catch (err) {
    throw new BadFrameError('corrupt', (err as Error).message);
  }
  const { width, height } = meta;
  if (!width || !height || width > FRAME_LIMITS.maxWidth || height > FRAME_LIMITS.maxHeight) {
    throw new BadFrameError('bad_dimensions', `${width}×${height}`);
  }
  try {
    const rgb = await image
      .removeAlpha()
      .toColourspace('srgb')
      .resize(inputWidth, inputHeight, { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer();
    return { width, height, rgb, inputWidth, inputHeight };
  } catch (err) {
    throw new BadFrameError('corrupt', (err as Error).message);
  }
}
