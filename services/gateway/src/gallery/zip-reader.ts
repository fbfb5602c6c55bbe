import yauzl, { type Entry, type ZipFile } from 'yauzl';
import type { Readable } from 'node:stream';
import { LookoutError } from '@lookout/contracts';
import { classifyEntry, isImageMagic } from './entry-names.js';

export interface ZipLimits {
  /** Entries in the central directory, folders included. */
  maxEntries: number;
  /** Uncompressed bytes of one entry. */
  maxEntryBytes: number;
  /** Uncompressed bytes of every entry inflated, together. */
  maxTotalBytes: number;
  /** Uncompressed / compressed bytes of one entry. */
  maxRatio: number;
}

/** The whole archive is refused (not a ZIP, too many entries, too much data, two entries of one name). */
export class ZipError extends LookoutError {
  declare readonly code: 'not_zip' | 'corrupt_zip' | 'too_many_entries' | 'zip_too_large' | 'duplicate_entry';
  constructor(code: ZipError['code'], message: string) {
    super(code, message);
    this.name = 'ZipError';
  }
}

/** One entry refused; the rest of the archive goes on. */
export interface EntryRejection {
  entry: string;
  person?: string;
  code: string;
  message: string;
}

/** An entry that passed every check: an image of `person`. */
export interface ZipImage {
  entry: string;
  person: string;
  /** Grouping key (the person, case-folded). */
  key: string;
  bytes: number;
  ref: Entry;
}

export interface ZipScan {
  images: ZipImage[];
  rejected: EntryRejection[];
}

type Inflated = { ok: true; bytes: number; data: Buffer } | { ok: false; code: string; message: string };

// @types/yauzl is for 2.x; 3.x exports the decoder used when decodeStrings is off.
const decodeName = (yauzl as unknown as { getFileNameLowLevel(flags: number, raw: Buffer, extra: Entry['extraFields'], strict: boolean): string }).getFileNameLowLevel;
const MAX_NAME_SHOWN = 300;
const MAGIC_BYTES = 8;

/**
 * Reads a batch-enrollment ZIP from a file without trusting its headers: every limit is
 * checked on the bytes actually inflated, and inflation stops as soon as one is crossed,
 * so a bomb costs at most one entry's limit. Names are decoded here (yauzl's own check
 * would fail the whole archive on one bad name; we refuse just that entry).
 */
export class ZipReader {
  private totalBytes = 0;

  private constructor(
    private readonly zip: ZipFile,
    private readonly limits: ZipLimits,
  ) {}

  static async open(path: string, limits: ZipLimits): Promise<ZipReader> {
    const zip = await new Promise<ZipFile>((resolve, reject) => {
      yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true }, (err, z) => (err ? reject(err) : resolve(z)));
    }).catch((err: Error) => {
      throw new ZipError('not_zip', `zip: not a readable ZIP archive (${err.message})`);
    });
    if (zip.entryCount > limits.maxEntries) {
      zip.close();
      throw new ZipError('too_many_entries', `zip: ${zip.entryCount} entries; at most ${limits.maxEntries} are accepted`);
    }
    return new ZipReader(zip, limits);
  }

  /** Pass 1: classifies and fully inflates (then drops) every entry. Throws ZipError. */
  async scan(onEntry: () => void = () => undefined): Promise<ZipScan> {
    const out: ZipScan = { images: [], rejected: [] };
    const names = new Set<string>();
    let seen = 0;
    for (let e = await this.nextEntry(); e; e = await this.nextEntry()) {
      if (++seen > this.limits.maxEntries) throw new ZipError('too_many_entries', `zip: more than ${this.limits.maxEntries} entries`);
      const name = decodeName(e.generalPurposeBitFlag, e.fileName as unknown as Buffer, e.extraFields, true);
      const entry = name.length > MAX_NAME_SHOWN ? `${name.slice(0, MAX_NAME_SHOWN)}…` : name;
      const c = classifyEntry(name);
      if (c.kind === 'directory' || c.kind === 'ignored') continue;
      // A ZIP may hold one name twice; unpacked, the second replaces the first, and here
      // both would be enrolled as the person the name says, whoever each photo shows.
      // Which one the sender meant cannot be known, so the archive is refused.
      const unique = name.normalize('NFC');
      if (names.has(unique)) throw new ZipError('duplicate_entry', `zip: entry ${JSON.stringify(entry)} appears more than once; every entry needs its own name`);
      names.add(unique);
      if (c.kind === 'rejected') out.rejected.push({ entry, code: c.code, message: c.message });
      else {
        const r = await this.inflate(e, true);
        if (r.ok) out.images.push({ entry, person: c.person, key: c.key, bytes: r.bytes, ref: e });
        else out.rejected.push({ entry, person: c.person, code: r.code, message: r.message });
      }
      onEntry();
    }
    return out;
  }

  /** Pass 2: the bytes of an image found by scan(), under the same per-entry limits. */
  async read(image: ZipImage): Promise<Buffer> {
    const r = await this.inflate(image.ref, false);
    if (!r.ok) throw new ZipError('corrupt_zip', `${image.entry}: ${r.message}`);
    return r.data;
  }

  close(): void {
    this.zip.close();
  }

  private nextEntry(): Promise<Entry | undefined> {
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        this.zip.removeAllListeners('entry').removeAllListeners('end').removeAllListeners('error');
        fn();
      };
      this.zip.once('entry', (e: Entry) => done(() => resolve(e)));
      this.zip.once('end', () => done(() => resolve(undefined)));
      this.zip.once('error', (err: Error) => done(() => reject(new ZipError('corrupt_zip', `zip: damaged archive (${err.message})`))));
      this.zip.readEntry();
    });
  }

  /** Header checks first (cheap), then the same checks on the bytes as they come out. */
  private async inflate(e: Entry, scanning: boolean): Promise<Inflated> {
    const { maxEntryBytes, maxRatio } = this.limits;
    if (e.isEncrypted()) return { ok: false, code: 'unsupported', message: 'encrypted entries are not supported' };
    if (e.compressionMethod !== 0 && e.compressionMethod !== 8) return { ok: false, code: 'unsupported', message: `compression method ${e.compressionMethod} is not supported (use deflate or store)` };
    const tooBig = () => ({ ok: false as const, code: 'entry_too_large', message: `larger than ${maxEntryBytes} bytes uncompressed` });
    const bomb = () => ({ ok: false as const, code: 'compression_ratio', message: `expands more than ${maxRatio}× (a ZIP bomb?); refused` });
    if (e.uncompressedSize > maxEntryBytes) return tooBig();
    if (e.uncompressedSize > Math.max(e.compressedSize, 1) * maxRatio) return bomb();
    const stream = await new Promise<Readable>((resolve, reject) => this.zip.openReadStream(e, (err, s) => (err ? reject(err) : resolve(s)))).catch((err: Error) => err);
    if (stream instanceof Error) return { ok: false, code: 'corrupt_entry', message: `unreadable entry (${stream.message})` };
    return this.consume(stream, e.compressedSize, scanning, tooBig, bomb);
  }

  private consume(stream: Readable, compressed: number, scanning: boolean, tooBig: () => Inflated, bomb: () => Inflated): Promise<Inflated> {
    const { maxEntryBytes, maxRatio, maxTotalBytes } = this.limits;
    const notImage: Inflated = { ok: false, code: 'not_image', message: 'content is not a JPEG or PNG image' };
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      let settled = false;
      let magicChecked = false;
      const finish = (fn: () => void, early = true) => {
        if (settled) return;
        settled = true;
        stream.removeAllListeners('data');
        if (early) stream.destroy();
        fn();
      };
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (scanning) this.totalBytes += chunk.length;
        if (bytes > maxEntryBytes) return finish(() => resolve(tooBig()));
        if (bytes > Math.max(compressed, 1) * maxRatio) return finish(() => resolve(bomb()));
        if (this.totalBytes > maxTotalBytes) return finish(() => reject(new ZipError('zip_too_large', `zip: more than ${maxTotalBytes} bytes uncompressed in all`)));
        // While scanning only the head is kept (for the magic bytes); pass 2 reads the image again.
        if (!scanning || !magicChecked) chunks.push(chunk);
        if (!magicChecked && bytes >= MAGIC_BYTES) {
          magicChecked = true;
          if (!isImageMagic(Buffer.concat(chunks).subarray(0, MAGIC_BYTES))) finish(() => resolve(notImage));
        }
      });
      stream.on('error', (err: Error) => finish(() => resolve({ ok: false, code: 'corrupt_entry', message: `damaged entry (${err.message})` })));
      stream.on('end', () => finish(() => {
        const data = Buffer.concat(chunks);
        resolve(isImageMagic(data.subarray(0, MAGIC_BYTES)) ? { ok: true, bytes, data } : notImage);
      }, false));
    });
  }
}
