import { RtpRebaser } from '../../src/ingest/rtp-rebaser.js';

const rtp = (seq: number, ts: number) => {
  const b = Buffer.alloc(20);
  b[0] = 0x80;
  b[1] = 101;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(1234, 8);
  return b;
};
const out = (b: Buffer | undefined) => ({ seq: b!.readUInt16BE(2), ts: b!.readUInt32BE(4) });

describe('RtpRebaser: successive ffmpeg launches make one continuous RTP stream', () => {
  it('passes the first launch through unchanged', () => {
    const r = new RtpRebaser();
    expect(out(r.rewrite(rtp(100, 5000), 'a:1', 0))).toEqual({ seq: 100, ts: 5000 });
    expect(out(r.rewrite(rtp(101, 8000), 'a:1', 33))).toEqual({ seq: 101, ts: 8000 });
  });

  it('a relaunch (new source, new random bases) continues: sequence + 1, timestamp + the wall-clock gap', () => {
    const r = new RtpRebaser();
    r.rewrite(rtp(65_534, 4_294_960_000), 'a:1', 0);
    r.rewrite(rtp(65_535, 4_294_966_000), 'a:1', 66);
    // Killed; 2.5 s later a new ffmpeg starts at random bases (a sequence number "behind").
    expect(out(r.rewrite(rtp(7, 123), 'a:2', 2566))).toEqual({ seq: 0, ts: (4_294_966_000 + 2500 * 90) >>> 0 });
    expect(out(r.rewrite(rtp(8, 123 + 3000), 'a:2', 2600))).toEqual({ seq: 1, ts: (4_294_966_000 + 2500 * 90 + 3000) >>> 0 });
    expect(r.launches).toBe(2);
  });

  it('newLaunch() rebases even when the new ffmpeg happens to send from the same port', () => {
    const r = new RtpRebaser();
    r.rewrite(rtp(500, 90_000), 'a:1', 0);
    r.newLaunch();
    expect(out(r.rewrite(rtp(40_000, 7), 'a:1', 1000))).toEqual({ seq: 501, ts: 180_000 });
  });

  it('a reordered packet keeps its place and does not pull the end of the stream back', () => {
    const r = new RtpRebaser();
    r.rewrite(rtp(10, 0), 'a:1', 0);
    r.rewrite(rtp(12, 6000), 'a:1', 66);
    expect(out(r.rewrite(rtp(11, 3000), 'a:1', 70))).toEqual({ seq: 11, ts: 3000 });
    r.newLaunch();
    expect(out(r.rewrite(rtp(900, 1), 'a:1', 1066))).toEqual({ seq: 13, ts: 6000 + 90_000 });
  });

  it('drops what is not RTP version 2', () => {
    const r = new RtpRebaser();
    expect(r.rewrite(Buffer.alloc(8), 'a:1', 0)).toBeUndefined();
    const v1 = rtp(1, 1);
    v1[0] = 0x40;
    expect(r.rewrite(v1, 'a:1', 0)).toBeUndefined();
  });
});
