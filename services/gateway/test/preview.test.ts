import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { encodeFrameHeaders, PREVIEW_LIMITS, serverMessage, subjects, ValidationError, type FrameMeta } from '@lookout/contracts';
import { FIXTURES } from '@lookout/testkit';
import { previewEncoder } from '../src/ws/preview-feed.js';
import { PreviewMaker, type PreviewOutcome } from '../src/ws/preview-maker.js';
import { RateGate } from '../src/ws/rate-gate.js';

const photo = fs.readFileSync(path.join(FIXTURES, 'faces/identities/barack_obama/fr_obama.jpg'));
const quietLog = { debug: () => undefined } as never;

/** A NATS message as the feed's subscription gets it. */
function natsMsg(subject: string, meta: FrameMeta, data: Uint8Array): Msg {
  const h = headers();
  for (const [k, v] of encodeFrameHeaders(meta)) h.set(k, v);
  return { subject, data, headers: h } as unknown as Msg;
}

describe('RateGate', () => {
  it('passes one per interval per key; a burst allows that many in a row, then the average rate', () => {
    const g = new RateGate(500);
    expect([0, 100, 499, 500, 900, 1000].map((t) => g.pass('a', t))).toEqual([true, false, false, true, false, true]);
    expect(g.pass('b', 100)).toBe(true);
    const b = new RateGate(500, 2);
    expect([0, 10, 20, 520, 530, 1020].map((t) => b.pass('a', t))).toEqual([true, true, false, true, false, true]);
  });

  it('forgets idle keys and never holds more than maxKeys', () => {
    const g = new RateGate(500, 1, 3);
    for (let i = 0; i < 10; i++) g.pass(`k${i}`, i);
    expect(g.size).toBeLessThanOrEqual(3);
    // A clock that went back does not lock a key out.
    expect(g.pass('k9', 0)).toBe(true);
  });
});

describe('preview feed (viewer side)', () => {
  const meta: FrameMeta = { room: 'r1', stream: 's1', seq: 7, captureMs: 1_700_000_000_123, width: 320, height: 240 };
  const small = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);

  it('encodes a valid preview once as a `preview` server message, at most maxFps per stream', () => {
    const encode = previewEncoder('r1');
    const out = encode(natsMsg(subjects.previews('r1', 's1'), meta, small))!;
    const msg = serverMessage.parse(JSON.parse(out.toString()));
    expect(msg).toEqual({ type: 'preview', data: { ...meta, jpeg: small.toString('base64') } });
    // A burst of two for jitter, then the rate: the third at once is not sent.
    expect(encode(natsMsg(subjects.previews('r1', 's1'), meta, small))).toBeDefined();
    expect(encode(natsMsg(subjects.previews('r1', 's1'), meta, small))).toBeUndefined();
    // Another stream has its own budget.
    expect(encode(natsMsg(subjects.previews('r1', 's2'), { ...meta, stream: 's2' }, small))).toBeDefined();
  });

  it('refuses another room\'s, oversized or non-JPEG previews', () => {
    const encode = previewEncoder('r1');
    expect(() => encode(natsMsg(subjects.previews('r1', 's1'), { ...meta, room: 'r2' }, small))).toThrow(ValidationError);
    expect(() => encode(natsMsg(subjects.previews('r1', 's1'), { ...meta, stream: 'other' }, small))).toThrow(ValidationError);
    expect(() => encode(natsMsg(subjects.previews('r1', 's1'), meta, Buffer.alloc(PREVIEW_LIMITS.maxBytes + 1, 0xff)))).toThrow(/more than/);
    expect(() => encode(natsMsg(subjects.previews('r1', 's1'), meta, Buffer.from('not a jpeg')))).toThrow(/SOI/);
    expect(() => encode(natsMsg(subjects.previews('r1', 's1'), { ...meta, width: PREVIEW_LIMITS.maxWidth + 1 }, small))).toThrow(ValidationError);
  });
});

describe('PreviewMaker (where frames are uploaded)', () => {
  function setup() {
    const published: Array<{ subject: string; data: Uint8Array; meta: Record<string, string> }> = [];
    const outcomes: PreviewOutcome[] = [];
    const nc = {
      publish: (subject: string, data: Uint8Array, opts: { headers: ReturnType<typeof headers> }) =>
        published.push({ subject, data, meta: Object.fromEntries([...opts.headers.keys()].map((k) => [k, opts.headers.get(k)])) }),
    } as unknown as NatsConnection;
    const maker = new PreviewMaker(nc, (o) => outcomes.push(o), quietLog);
    const settled = async () => {
      while (maker.busy > 0) await new Promise((r) => setTimeout(r, 5));
    };
    return { maker, published, outcomes, settled };
  }

  it('scales a frame down to the preview limits and publishes it with the frame\'s seq and capture time', async () => {
    const { maker, published, settled } = setup();
    const size = await sharp(photo).metadata();
    maker.offer({ room: 'r1', stream: 's1', seq: 3, captureMs: 1234, width: size.width!, height: size.height! }, photo, 0);
    await settled();
    expect(published).toHaveLength(1);
    const p = published[0]!;
    expect(p.subject).toBe('previews.r1.s1');
    const out = await sharp(p.data).metadata();
    expect(out.format).toBe('jpeg');
    expect(out.width).toBeLessThanOrEqual(PREVIEW_LIMITS.maxWidth);
    expect(out.height).toBeLessThanOrEqual(PREVIEW_LIMITS.maxHeight);
    expect(p.data.length).toBeLessThanOrEqual(PREVIEW_LIMITS.maxBytes);
    expect(p.meta).toMatchObject({ 'Lookout-Seq': '3', 'Lookout-Capture-Ms': '1234', 'Lookout-Width': String(out.width), 'Lookout-Height': String(out.height) });
  });

  it('makes at most maxFps previews a second per stream, and says why it skipped the others', async () => {
    const { maker, published, outcomes, settled } = setup();
    const meta = { room: 'r1', stream: 's1', seq: 0, captureMs: 0, width: 640, height: 480 };
    // 5 fps for 2 s: 10 frames offered, one every 200 ms; a preview at most every 500 ms.
    for (let i = 0; i < 10; i++) {
      maker.offer({ ...meta, seq: i, captureMs: i * 200 }, photo, i * 200);
      await settled();
    }
    expect(published.map((p) => p.meta['Lookout-Seq'])).toEqual(['0', '3', '6', '9']);
    expect(outcomes.filter((o) => o === 'published')).toHaveLength(4);
    expect(outcomes.filter((o) => o === 'rate_limited')).toHaveLength(6);
  });

  it('counts a frame that cannot be decoded as failed, without publishing', async () => {
    const { maker, published, outcomes, settled } = setup();
    maker.offer({ room: 'r1', stream: 's1', seq: 0, captureMs: 0, width: 640, height: 480 }, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]), 0);
    await settled();
    expect(published).toEqual([]);
    expect(outcomes).toEqual(['failed']);
  });
});
