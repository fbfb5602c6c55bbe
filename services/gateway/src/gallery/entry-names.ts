/**
 * What a ZIP entry's path means for batch enrollment: whether it is safe, whether it is
 * skipped, and whose face it holds.
 *
 * The person rule (documented in the API):
 * - `<folder>/<file>.jpg` (one folder level): the person is the folder name; the file name
 *   does not matter, so a folder may hold any number of photos.
 * - `<file>.jpg` at the top: the person is the file name without its extension and without
 *   a trailing counter (digits, spaces, `_`, `-`, `.`, parentheses), so `ada_lovelace.jpg`,
 *   `ada_lovelace_2.jpg` and `Ada Lovelace (3).png` are all "ada lovelace" / "Ada Lovelace".
 * In both, `_` becomes a space and runs of spaces collapse. Entries of one person are grouped
 * case-insensitively; the first spelling seen is the name enrolled. A name that itself ends
 * in digits (R2-D2) needs the folder form.
 */

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;
const MAX_NAME_LENGTH = 200;

export type EntryClass =
  | { kind: 'directory' }
  | { kind: 'ignored' }
  | { kind: 'rejected'; code: string; message: string }
  | { kind: 'image'; person: string; key: string };

/** Archive clutter from desktop tools that is skipped without a result. */
function isClutter(segments: readonly string[]): boolean {
  const base = segments[segments.length - 1] ?? '';
  return segments[0] === '__MACOSX' || base.startsWith('.') || /^(thumbs\.db|desktop\.ini)$/i.test(base);
}

/**
 * Why a path is unsafe, or undefined. Nothing is ever written to disk, but an entry that
 * tries to escape its folder is hostile or broken, so it is refused rather than trusted.
 */
export function unsafePathReason(name: string): string | undefined {
  if (name.includes('\\')) return 'path contains a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'absolute path';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'path contains control characters';
  const segments = name.replace(/\/$/, '').split('/');
  if (segments.some((s) => s === '..')) return 'path contains ".." (path traversal)';
  if (segments.some((s) => s === '' || s === '.')) return 'path contains an empty or "." segment';
  return undefined;
}

function tidy(s: string): string {
  return s.replace(/_/g, ' ').replace(/\s+/g, ' ').trim().normalize('NFC');
}

/** The person of a top-level file: its name without extension and trailing counter. */
export function personFromFileName(base: string): string {
  const stem = base.replace(/\.[^.]*$/, '');
  return tidy(stem.replace(/[\s_\-.()\d]+$/, ''));
}

function extensionOf(base: string): string {
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

/** Classifies one entry path (already decoded; `/` separated as the ZIP spec says). */
export function classifyEntry(name: string): EntryClass {
  const unsafe = unsafePathReason(name);
  if (unsafe) return { kind: 'rejected', code: 'unsafe_path', message: `${unsafe}; entry refused` };
  if (name.endsWith('/')) return { kind: 'directory' };
  const segments = name.split('/');
  if (isClutter(segments)) return { kind: 'ignored' };
  if (segments.length > 2) return { kind: 'rejected', code: 'too_deep', message: 'nested folders: use one folder per person, or files at the top level' };
  const base = segments[segments.length - 1] ?? '';
  if (!(IMAGE_EXTENSIONS as readonly string[]).includes(extensionOf(base))) {
    return { kind: 'rejected', code: 'not_image', message: `not an image file: only ${IMAGE_EXTENSIONS.join(', ')} files are enrolled` };
  }
  const person = segments.length === 2 ? tidy(segments[0] ?? '') : personFromFileName(base);
  if (!person) return { kind: 'rejected', code: 'no_name', message: 'no person name in the path (name the file or its folder after the person)' };
  if (person.length > MAX_NAME_LENGTH) return { kind: 'rejected', code: 'bad_name', message: `person name longer than ${MAX_NAME_LENGTH} characters` };
  return { kind: 'image', person, key: person.toLowerCase() };
}

/** JPEG (FF D8 FF) or PNG (89 'PNG' CR LF 1A LF) by content, whatever the name says. */
export function isImageMagic(head: Buffer): boolean {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return true;
  return head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
}
