/**
 * A tiny grey picture of an aligned face crop, kept in the stream state beside each
 * track, so that any replica can tell whether the face in front of it still looks like
 * the one the track last embedded. It costs a few hundred bytes per track and a block
 * average per face, against the embedding model's tens of milliseconds.
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

function standardised(thumb: string): Float64Array {
  const bytes = Buffer.from(thumb, 'base64');
  const v = Float64Array.from(bytes);
  const mean = v.reduce((s, x) => s + x, 0) / Math.max(1, v.length);
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, v.length)) || 1;
  return v.map((x) => (x - mean) / sd);
}

/**
 * How different two thumbnails look: mean absolute difference after each is brought to
 * zero mean and unit spread (0 = the same picture up to brightness and contrast; two
 * unrelated pictures ≈ 1). Thumbnails of different sizes are as different as can be.
 */
export function thumbChange(a: string, b: string): number {
  const x = standardised(a);
  const y = standardised(b);
  if (x.length !== y.length || x.length === 0) return Infinity;
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs(x[i]! - y[i]!);
  return sum / x.length;
}
