import type { AnalysedFace, AnalysisMessage } from '@lookout/contracts';
import { AnalysisBuffer } from '../../web/src/lib/analysis-buffer.js';
import { ANONYMOUS_NAME, inView, NO_ANALYSIS, UNKNOWN_NAME } from '../../web/src/lib/in-view.js';
import { analysisOf, PreviewFrames, type PreviewFrame } from '../../web/src/lib/preview-frames.js';

const T0 = 1_700_000_000_000;
const obama: AnalysedFace = { box: [100, 80, 220, 240], score: 0.98, trackId: 't0', principal: true, identity: { subjectId: 'obama', name: 'Barack Obama', similarity: 0.71 } };
const stranger: AnalysedFace = { box: [300, 80, 380, 200], score: 0.9, trackId: 't1', identity: null };
const result = (seq: number, captureMs: number, faces: AnalysedFace[] = [obama]): AnalysisMessage => ({ room: 'r', stream: 's', seq, captureMs, width: 640, height: 480, timings: {}, faces });
const preview = (seq: number, captureMs: number): PreviewFrame => ({ room: 'r', stream: 's', seq, captureMs, width: 320, height: 240, jpeg: '' });

describe('which result a page shows (AnalysisBuffer.current)', () => {
  it('shows a result that took longer than 2 s to arrive (slow machine, fallback upload), with its age', () => {
    const b = new AnalysisBuffer();
    // Captured 2.6 s before it arrived: the old rule (capture age ≤ 2 s) hid every result.
    b.push(result(1, T0), T0 + 2600);
    expect(b.current(T0 + 2700)).toMatchObject({ msg: { seq: 1 }, skewMs: 2700, synced: false });
  });

  it('shows nothing once results stop arriving for 2 s, whatever the capture clock says', () => {
    const b = new AnalysisBuffer();
    b.push(result(1, T0 + 60_000), T0); // a capture clock a minute ahead of this browser
    expect(b.current(T0 + 1000)?.msg.seq).toBe(1);
    expect(b.current(T0 + 2001)).toBeUndefined();
  });
});

describe('who is in view (one description for the overlay, the caption and the metrics)', () => {
  it('names each face from its identity, the principal first for a single-person readout', () => {
    const v = inView({ msg: result(1, T0, [stranger, obama]), skewMs: 40, synced: false });
    expect(v.faces.map((f) => [f.caption, f.kind])).toEqual([
      [`${UNKNOWN_NAME} · t1`, 'unknown'],
      ['Barack Obama 0.71 · t0', 'known'],
    ]);
    expect(v.main?.name).toBe('Barack Obama');
    expect(v.summary).toBe(`In view: ${UNKNOWN_NAME}, Barack Obama`);
  });

  it('without names (the Publish page: a publisher is told no identities) every face is a "Face", never a name', () => {
    const v = inView({ msg: result(1, T0, [stranger, obama]), skewMs: 40, synced: false }, false);
    expect(v.faces.map((f) => [f.caption, f.kind, f.similarity])).toEqual([
      [`${ANONYMOUS_NAME} · t1`, 'anonymous', null],
      [`${ANONYMOUS_NAME} · t0`, 'anonymous', null],
    ]);
    expect(v.main?.name).toBe(ANONYMOUS_NAME);
    expect(v.summary).toBe(`In view: ${ANONYMOUS_NAME}, ${ANONYMOUS_NAME}`);
  });

  it('says "Nobody in view" only when a result found nobody; without a result it says so', () => {
    expect(inView({ msg: result(1, T0, []), skewMs: 0, synced: true }).summary).toBe('Nobody in view');
    expect(inView(undefined)).toBe(NO_ANALYSIS);
    expect(NO_ANALYSIS.summary).not.toMatch(/nobody/i);
  });
});

describe('preview frames wait for their own analysis', () => {
  it('shows the newest frame whose analysis arrived, synced to exactly that result', () => {
    const b = new AnalysisBuffer();
    b.push(result(0, T0), T0 + 800); // the pipeline takes 800 ms
    const frames = new PreviewFrames();
    frames.push(preview(3, T0 + 600), T0 + 650);
    frames.push(preview(6, T0 + 1200), T0 + 1250);
    expect(frames.pick(b, T0 + 1300)).toBeUndefined();
    b.push(result(3, T0 + 600), T0 + 1400);
    b.push(result(4, T0 + 800), T0 + 1450);
    const picked = frames.pick(b, T0 + 1460)!;
    expect(picked).toMatchObject({ frame: { seq: 3 }, analysed: true });
    expect(analysisOf(b, picked.frame)).toMatchObject({ msg: { seq: 3 }, synced: true });
    b.push(result(6, T0 + 1200), T0 + 1900);
    expect(frames.pick(b, T0 + 1950)).toMatchObject({ frame: { seq: 6 }, analysed: true });
  });

  it('shows a frame without its analysis once it waited longer than the usual latency', () => {
    const b = new AnalysisBuffer();
    const frames = new PreviewFrames();
    b.push(result(1, T0), T0 + 300); // latency 300 ms
    frames.push(preview(9, T0 + 2000), T0 + 2000);
    expect(frames.pick(b, T0 + 2700)).toBeUndefined();
    expect(frames.pick(b, T0 + 2900)).toMatchObject({ frame: { seq: 9 }, analysed: false });
  });
});
