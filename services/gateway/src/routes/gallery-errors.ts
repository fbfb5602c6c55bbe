import type { GalleryError } from '@lookout/contracts';
import { ApiError } from '../http/errors.js';

const STATUS: Record<string, number> = {
  invalid_request: 400,
  not_found: 404,
  exists: 409,
  no_usable_image: 422,
  bad_image: 422,
  not_jpeg: 422,
  unavailable: 503,
};

/** A reid gallery error reply as an HTTP error (same code, same field). */
export function galleryError(e: GalleryError): ApiError & { images?: unknown } {
  const err: ApiError & { images?: unknown } = new ApiError(STATUS[e.code] ?? 502, e.code, e.message, e.field);
  if (e.images) err.images = e.images;
  return err;
}
