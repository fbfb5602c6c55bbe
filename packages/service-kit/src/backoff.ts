/** Delay before attempt `attempt + 1` of a retried call: base · 2^(attempt−1), capped at max. */
export function backoffDelay(attempt: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
}
