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

const tooLarge = (spec: RawBodySpec) => new LookoutError('body_too_large', `body: larger than the limit of ${spec.limitBytes} bytes (${spec.limitReason})`);

/**
 * Reads a non-JSON body (an image) with its limit enforced before and while it arrives:
 * a Content-Length over the limit is refused before a byte is read, and a body without one
 * (chunked) is refused the moment it passes the limit, its chunks dropped at once. The
 * answer goes out at once and is the connection's last, and the rest of the body is never
 * read (closeAfterAnswer). A body the pipeline could never carry costs the gateway at most
 * `limitBytes` of memory, however large it is.
 */
export function readRawBody(req: Request, spec: RawBodySpec): Promise<RawBody> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!spec.types.includes(type)) return refuse(req, new LookoutError('unsupported_media_type', `body: send the image as ${spec.types.join(' or ')}`));
  // An encoded body would be inflated past the limit we check here: the image formats are compressed already.
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') return refuse(req, new LookoutError('unsupported_encoding', `body: content-encoding ${encoding} is not accepted; send the image as it is`));
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > spec.limitBytes) return refuse(req, tooLarge(spec));
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
      closeAfterAnswer(req);
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

/** Answers `err` now, without reading the body (see closeAfterAnswer). */
function refuse(req: Request, err: LookoutError): Promise<never> {
  closeAfterAnswer(req);
  return Promise.reject(err);
}

/**
 * After a refused body the client may still be sending. Closing the socket at once would
 * reset the connection, and a reset can take the answer with it (fetch then fails instead
 * of reading the 413); reading the rest off only to drop it would cost the read buffers of
 * the whole body. So the body is left unread: paused, the socket stops at the stream's
 * buffer (tens of KiB), the client's sending stalls; once the answer is written our side
 * ends (the client reads the answer, then the end) and the socket is destroyed after
 * LINGER_MS, or sooner when the client closes. Generous: a client on a busy machine or a
 * slow link that has not read the answer when the socket goes gets a reset instead (seen
 * with 2 s on a loaded 2-core CI machine); a paused socket costs only its buffers meanwhile.
 */
const LINGER_MS = 10_000;

/** Reads no more of the body, and makes the answer the connection's last. */
export function closeAfterAnswer(req: Request): void {
  // A body read already (JSON, by express.json) leaves nothing to stop.
  if (req.readableEnded) return;
  req.pause();
  // Takes (and drops) what is buffered, which marks the body as being consumed: otherwise
  // Node reads off ("dumps") what is left of an unread body once the answer is written,
  // the very cost this avoids. Paused, the stream then stops the socket at its buffer size.
  req.read();
  // The client's write failing after the answer has nobody to go to.
  req.on('error', () => undefined);
  const socket = req.socket;
  // A request that said `Connection: close` (Node's http client without an agent does) makes
  // the answer the last already, and Node then destroys the socket the moment the answer is
  // written: with the unread body in its buffer that is a reset, which can reach the client
  // before it reads the answer (seen as EPIPE instead of a 413, more often the later the
  // answer). Ending is enough; the linger below destroys it.
  socket.destroySoon = () => void socket.end();
  req.res?.once('finish', () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}
