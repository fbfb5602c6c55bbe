import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { types } from 'mediasoup';
import { chooseIngestMode as choose, parseProbe, PROBE_READ_S, type ChooseOptions, type SourceFacts } from '../../src/ingest/source-probe.js';
import { mediaCodecs } from '../../src/rooms/media-codecs.js';

const sample = (name: string) => readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8');
/** The router's codecs as mediasoup lists them (what VIDEO_CODECS=VP8,H264 gives). */
const ROUTER = mediaCodecs(['VP8', 'H264']) as types.RtpCodecCapability[];
const chooseIngestMode = (f: SourceFacts, o: Partial<ChooseOptions> = {}) => choose(f, { routerCodecs: ROUTER, ...o });
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
    expect(chooseIngestMode(parseProbe(sample('vp8-keyframes-2s.json'), PROBE_READ_S))).toEqual({ mode: 'copy', codec: 'VP8', sourceCodec: 'vp8', why: 'VP8, routed as it is' });
  });

  it('encodes VP8 whose keyframes are 6 s apart, saying why', () => {
    const mode = chooseIngestMode(parseProbe(sample('vp8-keyframes-6s.json'), PROBE_READ_S));
    expect(mode).toEqual({ mode: 'encode', codec: 'VP8', sourceCodec: 'vp8', why: 'keyframes up to 6.0 s apart (at most 2 s for copying)' });
  });

  it('H.264 without a readable profile is encoded, saying why', () => {
    // The sample predates -show_data: no extradata, no profile.
    expect(chooseIngestMode(parseProbe(sample('h264.json'), PROBE_READ_S))).toMatchObject({ mode: 'encode', codec: 'VP8', why: 'H.264 whose profile could not be read' });
  });

  it('encodes a file with no video or no keyframe', () => {
    expect(chooseIngestMode(facts({ codec: undefined }))).toMatchObject({ mode: 'encode', why: 'video is missing, which the router cannot route' });
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

describe('H.264 sources', () => {
  it('copies a camera\'s constrained baseline H.264 (Annex B SPS), packetization mode 1, its own level', () => {
    const f = parseProbe(sample('h264-rtsp-camera.json'), 3);
    expect(f).toMatchObject({ codec: 'h264', profileLevelId: '42c016' });
    expect(chooseIngestMode(f, { live: true })).toEqual({
      mode: 'copy',
      codec: 'H264',
      sourceCodec: 'h264',
      profileLevelId: '42c016',
      packetizationMode: 1,
      why: 'H.264 constrained-baseline (42c016), routed as it is',
    });
  });

  it('copies a baseline MP4 with keyframes every second (avcC SPS)', () => {
    expect(chooseIngestMode(parseProbe(sample('h264-baseline-mp4.json'), PROBE_READ_S))).toMatchObject({ mode: 'copy', codec: 'H264', profileLevelId: '42c00c' });
  });

  it('encodes a profile the router lacks (main), and H.264 when the router has no H.264', () => {
    expect(chooseIngestMode(parseProbe(sample('h264-main-mp4.json'), PROBE_READ_S))).toEqual({
      mode: 'encode',
      codec: 'VP8',
      sourceCodec: 'h264',
      why: 'H.264 main (4d400c): the router has no codec of that profile',
    });
    const vp8Only = mediaCodecs(['VP8']) as types.RtpCodecCapability[];
    expect(chooseIngestMode(parseProbe(sample('h264-rtsp-camera.json'), 3), { live: true, routerCodecs: vp8Only })).toMatchObject({
      mode: 'encode',
      why: "H.264 is not among the router's codecs (VIDEO_CODECS)",
    });
  });

  it('a camera needs a keyframe in the probe window; its GOP phase (the lead) does not count', () => {
    const cam = facts({ codec: 'h264', profileLevelId: '42e01f', keyTimes: [1.9], firstTime: 0, lastTime: 3, readAll: false });
    expect(chooseIngestMode(cam, { live: true }).mode).toBe('copy');
    expect(chooseIngestMode({ ...cam, keyTimes: [] }, { live: true })).toMatchObject({ mode: 'encode', why: 'no keyframe within 3 s' });
  });
});
