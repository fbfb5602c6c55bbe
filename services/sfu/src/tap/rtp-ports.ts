import dgram from 'node:dgram';

/**
 * Even/odd UDP port pairs (RTP, RTCP) for ffmpeg, from a range kept outside the kernel's
 * ephemeral range so the OS does not hand them to someone else between our check and
 * ffmpeg's bind. Each candidate pair is test-bound before it is handed out.
 */
export class RtpPortPool {
  private readonly inUse = new Set<number>();
  private next: number;

  constructor(
    private readonly min: number,
    private readonly max: number,
  ) {
    if (min % 2 !== 0 || max <= min) throw new Error(`RTP port range must start even and be non-empty: ${min}-${max}`);
    this.next = min;
  }

  async allocate(): Promise<number> {
    const span = this.max - this.min + 1;
    for (let tries = 0; tries < span / 2; tries++) {
      const port = this.next;
      this.next = this.next + 2 > this.max - 1 ? this.min : this.next + 2;
      if (this.inUse.has(port)) continue;
      if ((await canBind(port)) && (await canBind(port + 1))) {
        this.inUse.add(port);
        return port;
      }
    }
    throw new Error(`no free RTP port pair in ${this.min}-${this.max}`);
  }

  release(port: number): void {
    this.inUse.delete(port);
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', () => resolve(false));
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
  });
}

/** `/proc/sys/net/ipv4/ip_local_port_range` ("32768\t60999"); undefined if it does not parse. */
export function parseEphemeralRange(text: string): { min: number; max: number } | undefined {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(text);
  return m ? { min: Number(m[1]), max: Number(m[2]) } : undefined;
}

/**
 * The kernel may hand ports of the tap range to any program's outgoing socket when the
 * two ranges overlap. Allocation survives that (pairs are test-bound, a lost one retried),
 * but the operator should know, so it is said once at start.
 */
export async function ephemeralOverlap(min: number, max: number): Promise<string | undefined> {
  const { readFile } = await import('node:fs/promises');
  const range = parseEphemeralRange(await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => ''));
  if (!range || max < range.min || min > range.max) return undefined;
  return `TAP_PORT_MIN–TAP_PORT_MAX (${min}-${max}) overlaps the kernel's ephemeral port range (${range.min}-${range.max}): other programs may take tap ports; choose a range outside it`;
}
