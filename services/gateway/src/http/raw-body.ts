import type { Request } from 'express';
import { LookoutError } from '@lookout/contracts';

export interface RawBodySpec {
  /** Media types accepted (`image/jpeg`), compared without parameters. */
  types: readonly string[];
  /** The largest body accepted, in bytes. */
  limitBytes: number;
  /** Why that is the limit, for the 413's message (a client should know what to change). */
  limitReason: string;
}

export interface RawBody {
  type: string;
  data: Buffer;
}

/**
 * How far past the limit a refused body is still read off and dropped, so that a client
 * still sending can read its 413; past that the connection is cut. Reading off costs no
 * memory (nothing is kept), only the bandwidth, and this bounds even that.
 */
const DISCARD_BEYOND_LIMIT = 16 * 1_048_576;

const tooLarge = (spec: RawBodySpec) => new LookoutError('body_too_large', `body: larger than the limit of ${spec.limitBytes} bytes (${spec.limitReason})`);

/**
 * Reads a non-JSON body (an image) with its limit enforced before and while it arrives:
 * a Content-Length over the limit is refused before a byte is read, and a body without one
 * (chunked) is refused the moment it passes the limit, its chunks dropped at once. Either
 * way the 413 goes out immediately and the rest of the body is read off without being kept
 * (at most DISCARD_BEYOND_LIMIT, then the connection is cut). So a body the pipeline could
 * never carry costs the gateway at most `limitBytes` of memory, however large it is.
 */
export function readRawBody(req: Request, spec: RawBodySpec): Promise<RawBody> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!spec.types.includes(type)) return refuse(req, spec, new LookoutError('unsupported_media_type', `body: send the image as ${spec.types.join(' or ')}`));
  // An encoded body would be inflated past the limit we check here: the image formats are compressed already.
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') return refuse(req, spec, new LookoutError('unsupported_encoding', `body: content-encoding ${encoding} is not accepted; send the image as it is`));
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > spec.limitBytes) return refuse(req, spec, tooLarge(spec));
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= spec.limitBytes) return void chunks.push(chunk);
      stop();
      chunks = [];
      discard(req, spec.limitBytes + DISCARD_BEYOND_LIMIT - size);
      reject(tooLarge(spec));
    };
    const onEnd = () => {
      stop();
      resolve({ type, data: Buffer.concat(chunks, size) });
      chunks = [];
    };
    const onError = (err: Error) => {
      stop();
      chunks = [];
      reject(new LookoutError('bad_request', `body: ${err.message}`));
    };
    // 'close' before 'end': the client went away mid-body.
    const onClose = () => onError(new Error('upload aborted'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** Answers `err` now, and reads off what the client still sends (bounded). */
function refuse(req: Request, spec: RawBodySpec, err: LookoutError): Promise<never> {
  discard(req, spec.limitBytes + DISCARD_BEYOND_LIMIT);
  return Promise.reject(err);
}

/** Reads and drops up to `cap` more bytes of the body, then cuts the connection. */
function discard(req: Request, cap: number): void {
  if (req.readableEnded) return;
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > cap) req.destroy();
  });
  // An error after the answer (the client gave up) has nobody to go to.
  req.on('error', () => undefined);
  req.resume();
}
