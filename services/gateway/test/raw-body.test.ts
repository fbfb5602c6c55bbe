import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { toHttpError } from '../src/http/errors.js';
import { readRawBody } from '../src/http/raw-body.js';
import { rawPost } from '@lookout/testkit';

const LIMIT = 64 * 1024;

/** A server with one route reading an image body with LIMIT, answering its size. */
async function server(): Promise<{ url: URL; close: () => Promise<void>; seen: { bytes: number } }> {
  const seen = { bytes: 0 };
  const app = express();
  app.post('/img', (req, res) => {
    req.on('data', (c: Buffer) => (seen.bytes += c.length));
    readRawBody(req, { types: ['image/jpeg', 'image/png'], limitBytes: LIMIT, limitReason: 'test' }).then(
      (body) => res.json({ type: body.type, size: body.data.length }),
      (err: unknown) => {
        const { status, body } = toHttpError(err);
        res.status(status).json(body);
      },
    );
  });
  const s = http.createServer(app);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { url: new URL(`http://127.0.0.1:${(s.address() as AddressInfo).port}/img`), seen, close: () => new Promise((resolve) => s.close(() => resolve())) };
}

type Answer = { error?: { code: string; message: string }; size?: number };
const request = (url: URL, headers: Record<string, string>, write: (req: http.ClientRequest) => void) => rawPost<Answer>(url, headers, write);

describe('readRawBody: an image body with its limit enforced before and while it arrives', () => {
  let s: Awaited<ReturnType<typeof server>>;
  beforeAll(async () => (s = await server()));
  afterAll(() => s.close());

  it('reads a body within the limit', async () => {
    const r = await request(s.url, { 'content-type': 'image/jpeg; q=1' }, (req) => req.end(Buffer.alloc(LIMIT, 1)));
    expect(r).toEqual({ status: 200, body: { type: 'image/jpeg', size: LIMIT } });
  });

  it('refuses a Content-Length over the limit before a byte of the body is sent', async () => {
    s.seen.bytes = 0;
    let sent = false;
    const r = await request(s.url, { 'content-type': 'image/jpeg', 'content-length': String(200 * 1_048_576) }, (req) => {
      // Headers only: the answer must come without the body.
      req.flushHeaders();
      req.on('response', () => (sent = true));
    });
    expect(sent).toBe(true);
    expect(r.status).toBe(413);
    expect(r.body.error).toMatchObject({ code: 'body_too_large', message: expect.stringContaining(`${LIMIT} bytes`) });
    expect(s.seen.bytes).toBe(0);
  });

  it('refuses a chunked body the moment it passes the limit, while the client is still sending', async () => {
    let chunks = 0;
    let answered = false;
    const r = await request(s.url, { 'content-type': 'image/png' }, (req) => {
      req.on('response', () => (answered = true));
      const pump = () => {
        // Keeps sending until the answer arrives (a client that would send forever).
        while (!answered && chunks < 10_000) {
          chunks++;
          if (!req.write(Buffer.alloc(16 * 1024, 2))) return void req.once('drain', pump);
        }
        if (!req.destroyed) req.end();
      };
      pump();
    });
    expect(r.status).toBe(413);
    expect(r.body.error?.code).toBe('body_too_large');
    expect(chunks).toBeLessThan(10_000);
  });

  it('refuses other media types and encoded bodies', async () => {
    expect((await request(s.url, { 'content-type': 'application/octet-stream' }, (req) => req.end('x'))).body.error?.code).toBe('unsupported_media_type');
    expect((await request(s.url, { 'content-type': 'image/jpeg', 'content-encoding': 'gzip' }, (req) => req.end('x'))).body.error?.code).toBe('unsupported_encoding');
  });
});
