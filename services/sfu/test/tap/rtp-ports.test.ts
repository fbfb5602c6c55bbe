import { holdUdpPorts } from '@lookout/testkit';
import { parseEphemeralRange, RtpPortPool } from '../../src/tap/rtp-ports.js';

describe('RtpPortPool', () => {
  it('skips a pair another program holds and hands out the next free one', async () => {
    // Four free consecutive ports (below the usual ephemeral range and the other tests'
    // tap ranges); the test keeps holding the first one.
    const { base, sockets } = await holdUdpPorts(4, 31_000, 1600);
    sockets.splice(1).forEach((s) => s.close());
    const held = sockets[0];
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
