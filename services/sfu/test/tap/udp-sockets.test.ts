import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseUdpTable, udpPortBoundBy } from '../../src/tap/udp-sockets.js';

const sample = (name: string) => fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', name), 'utf8');

describe('parseUdpTable (real /proc/net samples, fixtures/README.md)', () => {
  it('reads a row whose 5-digit slot leaves no leading space (Intel Xeon, the bug report)', () => {
    expect(parseUdpTable(sample('proc-net-udp.intel-xeon-slot13133.txt'))).toEqual([{ localAddress: '0100007F', localPort: 20000, inode: 19413 }]);
  });

  it('reads every row of a busy IPv4 table with 4- and 5-digit slots (AMD EPYC)', () => {
    const rows = parseUdpTable(sample('proc-net-udp.amd-epyc-6.18.txt'));
    expect(rows).toHaveLength(13);
    expect(rows).toContainEqual({ localAddress: '00000000', localPort: 20002, inode: 16844 });
    expect(rows).toContainEqual({ localAddress: '00000000', localPort: 20003, inode: 16845 });
    expect(rows).toContainEqual({ localAddress: '020200C0', localPort: 0xb622, inode: 13924 });
    // The remote address (column 2 of a row without a leading space) is never taken for the local one.
    expect(rows.every((r) => r.localPort !== 0)).toBe(true);
  });

  it('reads IPv6 rows', () => {
    const rows = parseUdpTable(sample('proc-net-udp6.amd-epyc-6.18.txt'));
    expect(rows).toContainEqual({ localAddress: '00000000000000000000000000000000', localPort: 20010, inode: 17101 });
    expect(rows).toContainEqual({ localAddress: '00000000000000000000000001000000', localPort: 20012, inode: 17102 });
  });

  it('finds columns by name, wherever the kernel puts them', () => {
    const reordered = ['idx inode local_address', '  7:  555 0100007F:4E20', '12345: 556 00000000:4E21'].join('\n');
    expect(parseUdpTable(reordered)).toEqual([
      { localAddress: '0100007F', localPort: 20000, inode: 555 },
      { localAddress: '00000000', localPort: 20001, inode: 556 },
    ]);
  });

  it('returns nothing for an empty, headerless or foreign table', () => {
    expect(parseUdpTable('')).toEqual([]);
    expect(parseUdpTable(' 1: 0100007F:4E20 00000000:0000 07')).toEqual([]);
    expect(parseUdpTable('Inter-|   Receive\n face |bytes\n  lo: 1 2 3')).toEqual([]);
  });
});

describe('udpPortBoundBy (this machine)', () => {
  it('sees a socket this process binds, on IPv4 and IPv6, and only for this process', async () => {
    const v4 = dgram.createSocket('udp4');
    await new Promise<void>((r) => v4.bind(0, '127.0.0.1', r));
    const port4 = v4.address().port;
    try {
      expect(await udpPortBoundBy(process.pid, port4)).toBe('bound');
      // Another process does not hold this socket.
      const other = spawn('sleep', ['30'], { stdio: 'ignore' });
      try {
        expect(await udpPortBoundBy(other.pid!, port4)).toBe('not_bound');
      } finally {
        other.kill('SIGKILL');
        await once(other, 'exit');
      }
    } finally {
      v4.close();
    }
    const v6 = dgram.createSocket({ type: 'udp6', ipv6Only: true });
    const v6ok = await new Promise<boolean>((r) => (v6.once('error', () => r(false)), v6.bind(0, '::1', () => r(true))));
    if (v6ok) {
      expect(await udpPortBoundBy(process.pid, v6.address().port)).toBe('bound');
      v6.close();
    }
    expect(await udpPortBoundBy(process.pid, port4)).toBe('not_bound');
  });
});
