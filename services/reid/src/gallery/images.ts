import sharp from 'sharp';

/**
 * Gallery images arrive as base64 JPEG or PNG; the detector takes JPEG only, so anything
 * else sharp reads is converted (EXIF rotation applied, transparency on grey). Undefined
 * when the bytes are not an image.
 */
export async function toJpeg(bytes: Buffer): Promise<Uint8Array | undefined> {
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return bytes;
  try {
    return await sharp(bytes, { limitInputPixels: 64_000_000 }).rotate().flatten({ background: '#808080' }).jpeg({ quality: 95 }).toBuffer();
  } catch {
    return undefined;
  }
}

/**
 * The image with a grey border of a quarter of its longer side: tight crops (ID photos,
 * cropped portraits) leave the detector no context, and a border helps it find the face.
 */
export async function padded(jpeg: Uint8Array): Promise<Uint8Array> {
  const meta = await sharp(jpeg).metadata();
  const p = Math.round(Math.max(meta.width ?? 0, meta.height ?? 0) * 0.25);
  return sharp(jpeg).extend({ top: p, bottom: p, left: p, right: p, background: '#808080' }).jpeg({ quality: 95 }).toBuffer();
}
