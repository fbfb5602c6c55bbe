import type { NextFunction, Request, Response } from 'express';

/**
 * The web app's Content-Security-Policy: its own scripts, styles, images and connections
 * only (the WebSocket is same-origin, which 'self' covers), camera frames and thumbnails
 * as blob: URLs, no plugins, no <base> rewriting, never framed (clickjacking the admin
 * pages). No 'unsafe-inline' and no 'unsafe-eval': the build emits no inline script, and
 * the contracts' validators run interpreted in the browser (vite.config.ts sets
 * __LOOKOUT_NO_EVAL__), not compiled with new Function.
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Everything else the gateway answers (JSON, the API docs page, printable reports):
 * documents with inline styles and no script at all.
 */
export const DOCUMENT_CSP = ["default-src 'none'", "style-src 'unsafe-inline'", "img-src data:", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"].join('; ');

/**
 * Headers on every response: the strict document CSP (the static app's files replace it
 * with APP_CSP, see `appHeaders`), no framing (X-Frame-Options for browsers without
 * frame-ancestors), no MIME sniffing, and no Referer: a report link carries a room token
 * in its query, which must not leak to wherever the page links.
 */
export function securityHeaders() {
  return (_req: Request, res: Response, next: NextFunction): void => {
    res.setHeader('Content-Security-Policy', DOCUMENT_CSP);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  };
}

/** `express.static`'s setHeaders for the web app's files. */
export function appHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', APP_CSP);
}
