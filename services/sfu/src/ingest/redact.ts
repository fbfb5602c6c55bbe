/**
 * Camera URLs carry credentials (rtsp://user:pass@host/...). The room's record keeps the
 * real URL (a restored ingest must log in again), but nothing shown or logged may: logs,
 * room info, events, errors and ffmpeg's own stderr (which echoes the URL it failed on)
 * pass through here first.
 */

/** `scheme://user:secret@` → `scheme://user:***@` anywhere in a text. */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):[^\s/]*@/gi;

/** The URL with its password replaced by ***; anything that is not such a URL is returned as it is. */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, '$1:***@');
}

/** The password of a URL as written and as decoded (what ffmpeg may print), if any. */
function secretsOf(url: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:([^\s/]*)@/i.exec(url);
  if (!m || !m[1]) return [];
  let decoded = m[1];
  try {
    decoded = decodeURIComponent(m[1]);
  } catch {
    // not percent-encoded: as written
  }
  return [...new Set([m[1], decoded])];
}

/**
 * A redactor for the texts an ingest of `url` produces: every `user:secret@` goes, and so
 * does the password itself wherever it shows up on its own (ffmpeg may print a decoded
 * form, or the URL split up). A password shorter than 4 characters is not searched for on
 * its own: it would blank out ordinary words.
 */
export function redactorFor(url: string): (text: string) => string {
  const secrets = secretsOf(url).filter((s) => s.length >= 4);
  return (text) => {
    let out = text.replace(USERINFO, '$1:***@');
    for (const s of secrets) out = out.split(s).join('***');
    return out;
  };
}
