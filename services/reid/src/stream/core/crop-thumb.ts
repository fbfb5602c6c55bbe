// Comparing two crop thumbnails. The thumbnail itself is made by service-kit's cropThumb
// (the detector makes it too; reid for a crop that came without one).

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
