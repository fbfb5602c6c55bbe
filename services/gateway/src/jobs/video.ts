import fs from 'node:fs';
import path from 'node:path';
import type { Request, Response } from 'express';
import { notFound } from '@lookout/contracts';

/** Container signatures → the type a `<video>` needs (the answer is `nosniff`, so it must be right). */
const SIGNATURES: Array<{ type: string; at: number; bytes: number[] }> = [
  { type: 'video/webm', at: 0, bytes: [0x1a, 0x45, 0xdf, 0xa3] }, // EBML: WebM and Matroska
  { type: 'video/mp4', at: 4, bytes: [0x66, 0x74, 0x79, 0x70] }, // ISO BMFF 'ftyp': MP4, MOV, 3GP
  { type: 'video/ogg', at: 0, bytes: [0x4f, 0x67, 0x67, 0x53] }, // 'OggS'
  { type: 'video/x-msvideo', at: 8, bytes: [0x41, 0x56, 0x49, 0x20] }, // RIFF … 'AVI '
  { type: 'video/mp2t', at: 0, bytes: [0x47] }, // MPEG-TS sync byte
];

/** The video's media type from its first bytes; application/octet-stream when unknown. */
export async function videoType(file: string): Promise<string> {
  const head = Buffer.alloc(12);
  const fh = await fs.promises.open(file, 'r');
  try {
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const found = SIGNATURES.find((s) => s.at + s.bytes.length <= bytesRead && s.bytes.every((b, i) => head[s.at + i] === b));
    return found?.type ?? 'application/octet-stream';
  } finally {
    await fh.close();
  }
}

/**
 * Sends a held video with Range support (206, 416, Accept-Ranges, conditional requests:
 * Express's `send`), so a player can seek without loading it all. A file gone meanwhile
 * (the job deleted) is 404; a client that leaves mid-file just ends the answer.
 */
export async function sendVideo(req: Request, res: Response, file: string): Promise<void> {
  let type: string;
  try {
    type = await videoType(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound('job: its video is no longer held here', 'job');
    throw err;
  }
  await new Promise<void>((resolve, reject) => {
    res.sendFile(
      path.resolve(file),
      { acceptRanges: true, dotfiles: 'allow', lastModified: true, headers: { 'Content-Type': type, 'Cache-Control': 'private, no-cache', 'Content-Disposition': 'inline' } },
      (err?: Error & { code?: string; status?: number; headers?: Record<string, string> }) => {
        if (!err || res.headersSent) return resolve();
        if (err.code === 'ENOENT' || err.status === 404) return reject(notFound('job: its video is no longer held here', 'job'));
        // A range past the end: HTTP's own answer, with the size (`Content-Range: bytes */size`), so a player can retry.
        if (err.status === 416) return resolve(void res.status(416).set(err.headers ?? {}).end());
        reject(err);
      },
    );
  });
}
