import { deflateRawSync } from 'node:zlib';

/**
 * A minimal ZIP writer for tests: stored or deflated entries, UTF-8 names, CRC-32 set (so
 * any reader accepts the archive). No ZIP64, no extra fields: test archives are small.
 * Tests need it to build archives no well-behaved tool would make (traversal names, lying
 * headers, bombs).
 */
export interface ZipEntry {
  name: string;
  data: Buffer;
  /** Store without compression (default: deflate). */
  store?: boolean;
  /** Lie in the headers about the uncompressed size (zip-bomb tests). */
  declaredSize?: number;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function buildZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const body = e.store ? e.data : deflateRawSync(e.data);
    // The fields the local and the central header share, from `at` (the version needed).
    const fields = (h: Buffer, at: number) => {
      h.writeUInt16LE(20, at);
      h.writeUInt16LE(0x0800, at + 2); // UTF-8 names
      h.writeUInt16LE(e.store ? 0 : 8, at + 4);
      h.writeUInt32LE(crc32(e.data), at + 10);
      h.writeUInt32LE(body.length, at + 14);
      h.writeUInt32LE(e.declaredSize ?? e.data.length, at + 18);
      h.writeUInt16LE(name.length, at + 22);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    fields(local, 4);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // made by
    fields(central, 6);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
