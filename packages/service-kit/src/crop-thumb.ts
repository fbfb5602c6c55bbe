/**
 * A tiny grey picture of an aligned face crop, kept in the stream state beside each
 * track, so that any replica can tell whether the face in front of it still looks like
 * the one the track last embedded. It costs a few hundred bytes per track and a block
 * average per face, against the embedding model's tens of milliseconds.
 *
 * The detector makes it from the crop's pixels before it encodes them, and sends it with
 * the face (contracts DetectedFace.thumb), so reid decodes a crop only to embed it; reid
 * makes it itself from a crop that came without one.
 *
 * Calibrated on the two-person fixture video (16×16, distance below): consecutive frames
 * of one person 0.02 (p50) to 0.07 (max), one second apart up to 0.14; the hard cut
 * between the two people 1.02. Brightness and contrast are taken out before comparing,
 * since a light change alone does not change who it is.
 */
export const THUMB_SIDE = 16;

/** Block-averaged grey thumbnail of an interleaved RGB crop (`side`×`side`), base64 bytes. */
export function cropThumb(rgb: Uint8Array, side: number, n = THUMB_SIDE): string {
  const sums = new Float64Array(n * n);
  const counts = new Uint32Array(n * n);
  for (let y = 0; y < side; y++) {
    const row = Math.floor((y * n) / side) * n;
    for (let x = 0; x < side; x++) {
      const i = (y * side + x) * 3;
      const cell = row + Math.floor((x * n) / side);
      sums[cell]! += 0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!;
      counts[cell]! += 1;
    }
  }
  const out = new Uint8Array(n * n);
  for (let c = 0; c < out.length; c++) out[c] = Math.round(sums[c]! / Math.max(1, counts[c]!));
  return Buffer.from(out).toString('base64');
}
