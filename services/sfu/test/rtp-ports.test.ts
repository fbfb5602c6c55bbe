import dgram from 'node:dgram';
import { parseEphemeralRange, RtpPortPool } from '../src/rtp-ports.js';

describe('RtpPortPool', () => {
  it('skips a pair another program holds and hands out the next free one', async () => {
    // Four free consecutive ports from an even base (below the usual ephemeral range and
    // the other tests' tap ranges); the test holds the first one.
    const bind = (port: number) =>
      new Promise<dgram.Socket | undefined>((r) => {
        const s = dgram.createSocket('udp4');
        s.once('error', () => r(undefined));
        s.bind(port, '127.0.0.1', () => r(s));
      });
    let base = 0;
    let held: dgram.Socket | undefined;
    for (let tries = 0; tries < 50 && !held; tries++) {
      base = 31_000 + 2 * Math.floor(Math.random() * 800);
      const probes = await Promise.all([1, 2, 3].map((i) => bind(base + i)));
      probes.forEach((s) => s?.close());
      if (probes.every(Boolean)) held = await bind(base);
    }
    try {
      const pool = new RtpPortPool(base, base + 3);
      expect(await pool.allocate()).toBe(base + 2);
      // Every pair taken or held: a clear error, not a hang.
      await expect(pool.allocate()).rejects.toThrow(`no free RTP port pair in ${base}-${base + 3}`);
      pool.release(base + 2);
      expect(await pool.allocate()).toBe(base + 2);
    } finally {
      held?.close();
    }
  });
});

describe('parseEphemeralRange', () => {
  it('reads the kernel file as Linux writes it (tab-separated, newline)', () => {
    expect(parseEphemeralRange('32768\t60999\n')).toEqual({ min: 32768, max: 60999 });
    expect(parseEphemeralRange('1024 65535')).toEqual({ min: 1024, max: 65535 });
    expect(parseEphemeralRange('')).toBeUndefined();
  });
});
