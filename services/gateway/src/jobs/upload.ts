import fs from 'node:fs';
import type { Request } from 'express';
import { LookoutError } from '@lookout/contracts';
import { closeAfterAnswer } from '../http/raw-body.js';

/** What an upload of a recording may be. */
export interface UploadLimit {
  /** The largest video accepted, in bytes (JOB_MAX_BYTES). */
  maxBytes: number;
}

/** The media types a video upload may declare (`video/webm`, `video/mp4`, …, or untyped bytes). */
const VIDEO_TYPE = /^(video\/[a-z0-9][a-z0-9.+-]*|application\/octet-stream)$/;
/** How often progress is reported while bytes arrive: a 2 GiB upload makes 2048 calls, not 32 768. */
const PROGRESS_STEP = 1 << 20;

export const uploadTooLarge = (maxBytes: number): LookoutError =>
  new LookoutError('body_too_large', `body: larger than the limit of ${maxBytes} bytes (JOB_MAX_BYTES, the largest video a job takes)`);

/**
 * Checks an upload's headers before anything is made for it: a video type, no content
 * encoding (a compressed body would inflate past the limit checked here), a declared length
 * within the limit and not zero. The caller leaves a refused body unread (closeAfterAnswer).
 */
export function checkUploadHeaders(req: Pick<Request, 'headers'>, limit: UploadLimit): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!VIDEO_TYPE.test(type)) throw new LookoutError('unsupported_media_type', 'body: send the video as video/* (or application/octet-stream), or a JSON body {"url": …} to fetch one');
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') throw new LookoutError('unsupported_encoding', `body: content-encoding ${encoding} is not accepted; send the video as it is`);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit.maxBytes) throw uploadTooLarge(limit.maxBytes);
  if (declared !== undefined && Number(declared) === 0) throw new LookoutError('invalid_request', 'body: empty; send the video itself');
}

/**
 * Streams the request body into `file` (created, or truncated), never holding more of it
 * than the streams' buffers: the request is paused while the file catches up (backpressure).
 * Refuses with `body_too_large` the moment the bytes read pass the limit, leaving the rest
 * unread (closeAfterAnswer). A client that goes away mid-body is `bad_request` ("the upload
 * broke off"). On any failure the partial file is removed before this rejects. `onBytes`
 * hears the size so far, at least every MiB, and the final size. Resolves with the size.
 */
export function streamBodyToFile(req: Request, file: string, limit: UploadLimit, onBytes: (bytes: number) => void = () => undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = fs.createWriteStream(file);
    let size = 0;
    let reported = 0;
    let settled = false;
    const detach = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      out.off('drain', onDrain);
    };
    const fail = (err: LookoutError, leaveBodyUnread: boolean) => {
      if (settled) return;
      settled = true;
      detach();
      if (leaveBodyUnread) closeAfterAnswer(req);
      out.destroy();
      // A late 'error' of the destroyed file stream has nobody to go to.
      out.on('error', () => undefined);
      fs.promises.rm(file, { force: true }).then(
        () => reject(err),
        () => reject(err),
      );
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit.maxBytes) return fail(uploadTooLarge(limit.maxBytes), true);
      if (size - reported >= PROGRESS_STEP) onBytes((reported = size));
      if (!out.write(chunk)) req.pause();
    };
    const onDrain = () => {
      if (!settled) req.resume();
    };
    const onEnd = () => {
      detach();
      out.end(() => {
        if (settled) return;
        settled = true;
        onBytes(size);
        resolve(size);
      });
    };
    const onError = (err: Error) => fail(new LookoutError('bad_request', `body: the upload broke off (${err.message})`), false);
    // 'close' before 'end': the client went away mid-body.
    const onClose = () => onError(new Error('the client went away'));
    out.on('drain', onDrain);
    out.on('error', (err) => fail(new LookoutError('unavailable', `jobs: the video could not be written (${(err as NodeJS.ErrnoException).code ?? err.message})`), true));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}
