import type { ImageResult } from '@lookout/contracts';

/** Plain words for reid's image verdicts and the gateway's ZIP entry checks. */
const REASONS: Record<string, string> = {
  bad_image: 'not a readable JPEG or PNG',
  no_face: 'no face found',
  several_faces: 'several faces (one person per photo)',
  too_small: 'face too small',
  too_blurred: 'too blurred',
  duplicate: 'duplicate of a photo already enrolled',
  // ZIP entries (gateway checks before anything reaches reid)
  not_image: 'not an image',
  unsafe_path: 'unsafe path',
  too_deep: 'folders nested too deep',
  compression_ratio: 'suspicious compression',
  entry_too_large: 'file too large',
};

export function reasonText(code: string): string {
  return REASONS[code] ?? code.replaceAll('_', ' ');
}

/** One verdict per uploaded photo, in upload order, next to the file's name. */
export function GalleryImageResults({ images, names }: { images: ImageResult[]; names: string[] }) {
  if (images.length === 0) return null;
  return (
    <ul class="gallery-verdicts" aria-label="Photo results">
      {images.map((img) => (
        <li key={img.index}>
          <span class={`status ${img.ok ? 'ok' : 'bad'}`}>{img.ok ? 'used' : 'not used'}</span> <span class="gallery-file">{names[img.index] ?? `photo ${img.index + 1}`}</span>
          {img.ok && img.quality && <span class="muted"> — face {Math.round(img.quality.faceSize)} px, sharpness {Math.round(img.quality.sharpness)}</span>}
          {img.error && (
            <span>
              {' '}
              — <strong>{reasonText(img.error.code)}</strong> <span class="muted">({img.error.message})</span>
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
