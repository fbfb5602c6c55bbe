/**
 * Sort orders that do not depend on the machine. `localeCompare` without a locale uses
 * the server's LANG: under da_DK "aa…" sorts after "z…", under C "A1" after "a1", so an
 * API listing changed order with the host it ran on.
 */

/** UTF-16 code-unit order (the default of Array.prototype.sort): for ids, keys, labels. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// English collation is CLDR's root order (case and accents ranked after letters, no
// language's exceptions). Named explicitly: 'und' falls back to the process's LANG.
const root = new Intl.Collator('en');

/** Human order for names people typed, the same on every server. */
export function byName(a: string, b: string): number {
  return root.compare(a, b);
}
