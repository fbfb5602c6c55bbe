import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chooseIngestMode, parseProbe, PROBE_READ_S, type SourceFacts } from '../../src/ingest/source-probe.js';

const sample = (name: string) => readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8');
const facts = (over: Partial<SourceFacts>): SourceFacts => ({ codec: 'vp8', keyTimes: [0], firstTime: 0, lastTime: 4, readAll: true, ...over });

describe('parseProbe (ffprobe 5.1 samples)', () => {
  it('reads codec, keyframe times and packet span of a VP8 WebM', () => {
    const f = parseProbe(sample('vp8-keyframes-2s.json'), PROBE_READ_S);
    expect(f.codec).toBe('vp8');
    expect(f.keyTimes).toEqual([0, 2, 4, 6, 8, 10]);
    expect(f.firstTime).toBe(0);
    expect(f.lastTime).toBeCloseTo(11.933, 2);
    expect(f.readAll).toBe(true);
  });

  it('tolerates missing sections and N/A times', () => {
    const f = parseProbe(JSON.stringify({ packets: [{ pts_time: 'N/A', flags: 'K_' }, { pts_time: '0.5', flags: '__' }] }), 20);
    expect(f).toEqual({ codec: undefined, keyTimes: [], firstTime: 0.5, lastTime: 0.5, readAll: false });
  });

  it('a file longer than the probe window is not treated as read to its end', () => {
    const json = JSON.stringify({ streams: [{ codec_name: 'vp8' }], format: { duration: '3600.5' }, packets: [{ pts_time: '0.000000', flags: 'K__' }] });
    expect(parseProbe(json, 20).readAll).toBe(false);
  });
});

describe('chooseIngestMode', () => {
  it('copies a VP8 file with keyframes 2 s apart (the fixture video)', () => {
    expect(chooseIngestMode(parseProbe(sample('vp8-keyframes-2s.json'), PROBE_READ_S))).toEqual({ mode: 'copy' });
  });

  it('encodes VP8 whose keyframes are 6 s apart, saying why', () => {
    const mode = chooseIngestMode(parseProbe(sample('vp8-keyframes-6s.json'), PROBE_READ_S));
    expect(mode).toEqual({ mode: 'encode', why: 'keyframes up to 6.0 s apart (at most 2 s for copying)' });
  });

  it('encodes H.264 (the SFU sends VP8)', () => {
    expect(chooseIngestMode(parseProbe(sample('h264.json'), PROBE_READ_S))).toEqual({ mode: 'encode', why: 'video is h264, not VP8' });
  });

  it('encodes a file with no video or no keyframe', () => {
    expect(chooseIngestMode(facts({ codec: undefined }))).toMatchObject({ mode: 'encode', why: 'video is missing, not VP8' });
    expect(chooseIngestMode(facts({ keyTimes: [] }))).toMatchObject({ mode: 'encode', why: 'no keyframe found' });
  });

  it('counts the wait before the first keyframe, and a loop wrapping back to it', () => {
    expect(chooseIngestMode(facts({ keyTimes: [3], lastTime: 4 })).mode).toBe('encode');
    // Keyframes 1.5 s apart, but 1.9 s from the last one to the end plus 0.5 s to the first on the next loop.
    expect(chooseIngestMode(facts({ keyTimes: [0.5, 2, 3.5], firstTime: 0, lastTime: 5.4 })).mode).toBe('encode');
    // The same file not looped through (longer than the window): only what was read counts.
    expect(chooseIngestMode(facts({ keyTimes: [0.5, 2, 3.5], firstTime: 0, lastTime: 5.4, readAll: false })).mode).toBe('copy');
  });

  it('a single keyframe at the start of a long file is not enough', () => {
    expect(chooseIngestMode(facts({ keyTimes: [0], lastTime: 19.9, readAll: false }))).toMatchObject({ mode: 'encode' });
  });
});
