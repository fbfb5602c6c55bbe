import dgram from 'node:dgram';
import net from 'node:net';

/**
 * `n` distinct ports that were free a moment ago on 127.0.0.1 (the OS picks them). All
 * are held until the last is bound, so they differ; still prefer letting a server bind
 * port 0 itself and report it, where it can (startService, startNatsServer do).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      srv.unref();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * Binds `count` consecutive UDP ports on 127.0.0.1 from an even base in [from, from + span),
 * retrying other bases until all bind; the caller holds (and closes) the sockets. For
 * tests of code that allocates port pairs from a configured range.
 */
export async function holdUdpPorts(count: number, from: number, span: number): Promise<{ base: number; sockets: dgram.Socket[] }> {
  for (let tries = 0; tries < 50; tries++) {
    const base = from + 2 * Math.floor((Math.random() * (span - count)) / 2);
    const sockets: dgram.Socket[] = [];
    for (let p = base; p < base + count; p++) {
      const s = dgram.createSocket('udp4');
      const ok = await new Promise<boolean>((r) => (s.once('error', () => r(false)), s.bind(p, '127.0.0.1', () => r(true))));
      if (!ok) break;
      sockets.push(s);
    }
    if (sockets.length === count) return { base, sockets };
    sockets.forEach((s) => s.close());
  }
  throw new Error(`no ${count} free consecutive UDP ports in ${from}-${from + span - 1}`);
}
