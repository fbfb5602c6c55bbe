import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TWO_PEOPLE_VIDEO } from '@lookout/testkit';
import { videoType } from '../src/jobs/video.js';

describe('videoType: a held video\'s media type from its first bytes (the answer is nosniff)', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jobs-video-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, bytes: number[] | Buffer) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, Buffer.from(bytes));
    return p;
  };

  it('knows WebM/Matroska, MP4/MOV, Ogg, AVI and MPEG-TS', async () => {
    expect(await videoType(TWO_PEOPLE_VIDEO)).toBe('video/webm');
    expect(await videoType(file('a.mp4', [0, 0, 0, 0x20, ...Buffer.from('ftypisom'), 0, 0]))).toBe('video/mp4');
    expect(await videoType(file('a.ogv', [...Buffer.from('OggS'), 0, 2]))).toBe('video/ogg');
    expect(await videoType(file('a.avi', [...Buffer.from('RIFF'), 1, 2, 3, 4, ...Buffer.from('AVI LIST')]))).toBe('video/x-msvideo');
    expect(await videoType(file('a.ts', [0x47, 0x40, 0x11, 0x10]))).toBe('video/mp2t');
  });

  it('anything else, or too short to tell, is application/octet-stream', async () => {
    expect(await videoType(file('text', Buffer.from('hello, world')))).toBe('application/octet-stream');
    expect(await videoType(file('short', [0, 0, 0]))).toBe('application/octet-stream');
    expect(await videoType(file('empty', []))).toBe('application/octet-stream');
    await expect(videoType(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
