import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jpegSize, LookoutError } from '@lookout/contracts';
import { FIXTURES, TWO_PEOPLE_VIDEO } from '@lookout/testkit';
import { decoderArgs, FrameDecoder } from '../src/jobs/frame-decoder.js';
import { parseProbe, parseProgressTime, probeMedia } from '../src/jobs/media-probe.js';

describe('a job\'s video: probe and decoder (real ffprobe and ffmpeg)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-job-media-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads the duration from ffprobe, the format\'s first, else the stream\'s', () => {
    expect(parseProbe(JSON.stringify({ streams: [{ codec_type: 'audio' }, { codec_type: 'video', codec_name: 'vp8', width: 640, height: 480 }], format: { duration: '12.000000' } }))).toEqual({
      video: true,
      durationMs: 12_000,
      width: 640,
      height: 480,
      codec: 'vp8',
    });
    expect(parseProbe(JSON.stringify({ streams: [{ codec_type: 'video', duration: '3.5' }], format: { duration: 'N/A' } }))).toEqual({ video: true, durationMs: 3500 });
    expect(parseProbe(JSON.stringify({ streams: [{ codec_type: 'audio' }] }))).toEqual({ video: false });
    expect(parseProbe('not json')).toEqual({ video: false });
    for (const format_name of ['tty', 'image2', 'png_pipe']) expect(parseProbe(JSON.stringify({ streams: [{ codec_type: 'video' }], format: { format_name, duration: '1' } }))).toEqual({ video: false });
    expect(parseProgressTime('frame=1\nout_time_us=500000\nprogress=continue\nout_time_us=11933000\nprogress=end\n')).toBe(11_933);
    expect(parseProgressTime('progress=end\n')).toBeUndefined();
  });

  it('probes the fixture video; refuses what is not a video', async () => {
    expect(await probeMedia('ffprobe', 'ffmpeg', TWO_PEOPLE_VIDEO)).toEqual({ durationMs: 12_000, width: 640, height: 480, codec: 'vp8' });
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'not a video at all\n'.repeat(100));
    const photo = path.join(dir, 'photo.jpg');
    fs.copyFileSync(path.join(FIXTURES, 'faces/expressions', fs.readdirSync(path.join(FIXTURES, 'faces/expressions')).find((f) => f.endsWith('.jpg'))!), photo);
    const noise = path.join(dir, 'noise.bin');
    fs.writeFileSync(noise, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
    // ffmpeg takes a text file for ANSI art and a photo for a one-frame video: neither is a recording.
    for (const file of [text, photo, noise]) {
      const err = await probeMedia('ffprobe', 'ffmpeg', file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LookoutError);
      expect(err).toMatchObject({ code: 'not_video', field: 'video' });
    }
  });

  it('measures a video whose header has no duration by reading its packets', async () => {
    const piped = path.join(dir, 'no-duration.webm');
    // A live WebM has no duration in its header, as a browser's MediaRecorder recording.
    fs.writeFileSync(piped, execFileSync('ffmpeg', ['-v', 'error', '-i', TWO_PEOPLE_VIDEO, '-c', 'copy', '-f', 'webm', '-live', '1', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 }));
    expect(parseProbe(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,duration:format=duration', '-of', 'json', piped], { encoding: 'utf8' })).durationMs).toBeUndefined();
    const facts = await probeMedia('ffprobe', 'ffmpeg', piped);
    expect(Math.abs(facts.durationMs - 12_000)).toBeLessThanOrEqual(100);
  });

  it('decodes 5 fps frames scaled to the width cap, pausing ffmpeg while frames are not taken', async () => {
    const o = { ffmpegPath: 'ffmpeg', file: TWO_PEOPLE_VIDEO, fps: 5, maxWidth: 320, maxDurationS: 14_400, highWater: 2 };
    expect(decoderArgs(o)).toEqual(expect.arrayContaining(['-vf', "fps=5,scale='min(320,iw)':-2", '-t', '14400', '-c:v', 'mjpeg']));
    const d = new FrameDecoder(o);
    const frames: Buffer[] = [];
    let most = 0;
    for (let f = await d.next(); f; f = await d.next()) {
      frames.push(f);
      // Slower than ffmpeg: what waits in the queue stays bounded (a chunk's frames at most).
      await new Promise((resolve) => setImmediate(resolve));
      most = Math.max(most, (d as unknown as { queue: Buffer[] }).queue.length);
    }
    expect(frames).toHaveLength(60);
    expect(frames.every((f) => jpegSize(f)?.width === 320 && jpegSize(f)?.height === 240)).toBe(true);
    expect(most).toBeLessThanOrEqual(8);
    expect(await d.exited).toMatchObject({ code: 0, signal: null });
  });

  it('a closed decoder ends at once; a missing ffmpeg ends with its error', async () => {
    const d = new FrameDecoder({ ffmpegPath: 'ffmpeg', file: TWO_PEOPLE_VIDEO, fps: 5, maxWidth: 640, maxDurationS: 14_400 });
    expect(await d.next()).toBeInstanceOf(Buffer);
    expect((await d.close()).signal).toBe('SIGKILL');
    expect(await d.next()).toBeUndefined();
    const missing = new FrameDecoder({ ffmpegPath: path.join(dir, 'no-ffmpeg'), file: TWO_PEOPLE_VIDEO, fps: 5, maxWidth: 640, maxDurationS: 1 });
    expect(await missing.next()).toBeUndefined();
    expect((await missing.exited).stderr).toMatch(/ENOENT/);
  });
});
