import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Request } from 'express';
import busboy from 'busboy';
import { LookoutError } from '@lookout/contracts';

export interface UploadSpec {
  /** Text fields allowed, each at most once. */
  fields: readonly string[];
  /** The one file field: how many files, largest each, and (for big files) a folder to stream them to. */
  file: { field: string; maxFiles: number; maxBytes: number; toDir?: string };
  /** The whole body. */
  maxBodyBytes: number;
}

export interface UploadedFile {
  filename: string;
  size: number;
  /** In memory (no `toDir`) … */
  data?: Buffer;
  /** … or on disk under `toDir`. */
  path?: string;
}

export interface Upload {
  fields: Record<string, string>;
  files: UploadedFile[];
}

const MAX_FIELD_BYTES = 65_536;
/** A refused body is read off up to this much past the limit (so the client sees the error), then the connection is dropped. */
const DRAIN_BEYOND_LIMIT = 64 * 1_048_576;

const tooLarge = (what: string, limit: number, field?: string) => new LookoutError('body_too_large', `${what}: larger than the limit of ${limit} bytes`, field);

/**
 * Parses a multipart/form-data body with every limit enforced while it streams: the body,
 * each file, the number of files and fields, and each field's length. On any refusal the
 * rest of the body is read off and dropped (as body-parser does) before the error is
 * answered, so the client sees the 413/400 instead of a reset connection.
 */
export function readUpload(req: Request, spec: UploadSpec): Promise<Upload> {
  if (!/^multipart\/form-data\s*;/i.test(req.headers['content-type'] ?? '')) {
    return Promise.reject(new LookoutError('unsupported_media_type', `body: send multipart/form-data (fields ${[...spec.fields, spec.file.field].join(', ')})`));
  }
  return new Promise((resolve, reject) => new UploadReader(req, spec, resolve, reject).start());
}

const malformed = (err: Error) => new LookoutError('bad_request', `body: malformed multipart (${err.message})`);

/** One request's parse: busboy's events, the limits, and the single way out on failure. */
class UploadReader {
  private failed = false;
  private bb: busboy.Busboy | undefined;
  private readonly sinks: fs.WriteStream[] = [];
  private readonly writes: Array<Promise<void>> = [];
  private readonly out: Upload = { fields: {}, files: [] };
  /** Files by part order: parts may finish out of order (disk writes), verdicts are by upload order. */
  private readonly slots: Array<UploadedFile | undefined> = [];

  constructor(
    private readonly req: Request,
    private readonly spec: UploadSpec,
    private readonly resolve: (u: Upload) => void,
    private readonly reject: (err: Error) => void,
  ) {}

  start(): void {
    const { req, spec } = this;
    if (Number(req.headers['content-length'] ?? 0) > spec.maxBodyBytes) return this.fail(tooLarge('body', spec.maxBodyBytes));
    let bb: busboy.Busboy;
    try {
      bb = this.bb = busboy({ headers: req.headers, limits: { fileSize: spec.file.maxBytes, files: spec.file.maxFiles, fields: spec.fields.length + 1, fieldSize: MAX_FIELD_BYTES } });
    } catch (err) {
      return this.fail(malformed(err as Error));
    }
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > spec.maxBodyBytes) this.fail(tooLarge('body', spec.maxBodyBytes));
    });
    bb.on('field', (name, value, info) => {
      const err = fieldError(spec, this.out, name, info.valueTruncated);
      if (err) return this.fail(err);
      this.out.fields[name] = value;
    });
    bb.on('file', (name, stream, info) => this.onFile(name, stream, info.filename));
    bb.on('filesLimit', () => this.fail(new LookoutError('invalid_request', `${spec.file.field}: at most ${spec.file.maxFiles} file(s)`, spec.file.field)));
    // One field more than allowed still reaches fieldError(), which names it.
    bb.on('fieldsLimit', () => this.fail(new LookoutError('invalid_request', `body: too many text fields; expected ${spec.fields.join(', ') || 'none'}`)));
    bb.on('error', (err: Error) => this.fail(malformed(err)));
    bb.on('close', () => void Promise.all(this.writes).then(() => this.finish()));
    req.on('aborted', () => this.fail(new LookoutError('bad_request', 'body: upload aborted')));
    req.pipe(bb);
  }

  private onFile(name: string, stream: Readable, filename: string | undefined): void {
    // A part cut short errors on its own stream too; unhandled, that would crash the process.
    stream.on('error', (err: Error) => this.fail(malformed(err)));
    if (name !== this.spec.file.field) {
      stream.resume();
      return this.fail(new LookoutError('invalid_request', `${name}: unexpected file; send files as "${this.spec.file.field}"`, name));
    }
    const file: UploadedFile = { filename: filename ?? '', size: 0 };
    const n = this.slots.push(undefined) - 1;
    const saved = saveFile(stream, file, this.spec, n, this.sinks).then(
      () => {
        // Browsers send an empty part for a file input left blank.
        if (file.size > 0 || file.filename) this.slots[n] = file;
      },
      (err: Error) => this.fail(err),
    );
    this.writes.push(saved);
  }

  private finish(): void {
    if (this.failed) return;
    this.out.files = this.slots.filter((f): f is UploadedFile => f !== undefined);
    this.resolve(this.out);
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    for (const s of this.sinks) s.destroy();
    if (this.bb) {
      this.req.unpipe(this.bb);
      this.bb.removeAllListeners().on('error', () => undefined);
    }
    drain(this.req, this.spec.maxBodyBytes + DRAIN_BEYOND_LIMIT, () => this.reject(err));
  }
}

function fieldError(spec: UploadSpec, out: Upload, name: string, truncated: boolean): LookoutError | undefined {
  if (name === spec.file.field) return new LookoutError('invalid_request', `${name}: expected a file`, name);
  if (!spec.fields.includes(name)) return new LookoutError('invalid_request', `${name}: unknown field; expected ${[...spec.fields, spec.file.field].join(', ')}`, name);
  if (name in out.fields) return new LookoutError('invalid_request', `${name}: given more than once`, name);
  if (truncated) return tooLarge(name, MAX_FIELD_BYTES, name);
  return undefined;
}

/** Buffers one file part, or streams it to disk; rejects with 413 when it hits the limit. */
function saveFile(stream: Readable & { truncated?: boolean }, file: UploadedFile, spec: UploadSpec, n: number, sinks: fs.WriteStream[]): Promise<void> {
  const { field, maxBytes, toDir } = spec.file;
  const limitError = () => tooLarge(`${field}/${n}`, maxBytes, `${field}/${n}`);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let sink: fs.WriteStream | undefined;
    if (toDir) {
      file.path = path.join(toDir, `upload-${n}`);
      sink = fs.createWriteStream(file.path);
      sinks.push(sink);
      // A disk failure is the gateway's, not the client's: a plain error (500, logged).
      sink.on('error', (err) => reject(new Error(`upload: ${err.message}`)));
      stream.pipe(sink);
    } else {
      stream.on('data', (c: Buffer) => chunks.push(c));
    }
    stream.on('data', (c: Buffer) => (file.size += c.length));
    stream.on('limit', () => {
      stream.unpipe();
      stream.resume();
      sink?.destroy();
      reject(limitError());
    });
    stream.on('end', () => {
      if (stream.truncated) return;
      if (!sink) {
        file.data = Buffer.concat(chunks);
        return resolve();
      }
      sink.on('finish', () => resolve());
    });
  });
}

/** Reads off the rest of a refused body, but no more than `cap` bytes (then drops the connection). */
function drain(req: Request, cap: number, done: () => void): void {
  if (req.readableEnded) return done();
  let dropped = 0;
  req.removeAllListeners('data');
  req.on('data', (c: Buffer) => {
    dropped += c.length;
    if (dropped > cap) req.destroy();
  });
  req.once('end', done);
  req.once('close', done);
  req.resume();
}
