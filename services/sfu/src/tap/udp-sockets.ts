import { readdir, readFile, readlink } from 'node:fs/promises';

/** One row of /proc/net/udp or /proc/net/udp6. */
export interface UdpSocketRow {
  /** Hex address as the kernel prints it (8 digits for IPv4, 32 for IPv6). */
  localAddress: string;
  localPort: number;
  inode: number;
}

/**
 * The kernel prints a header whose columns do not split like its rows: the `sl` column is
 * right-aligned in 5 characters (so a slot ≥ 10000 has no leading space), and two header
 * pairs are one colon-joined field in each row. Columns are found by name after joining
 * those pairs, never by a fixed position.
 */
const JOINED_HEADER_PAIRS: Array<[RegExp, string]> = [
  [/\btx_queue\s+rx_queue\b/, 'tx_queue:rx_queue'],
  [/\btr\s+tm->when\b/, 'tr:tm->when'],
];

export function parseUdpTable(text: string): UdpSocketRow[] {
  const lines = text.split('\n');
  let header = (lines[0] ?? '').trim();
  for (const [pair, joined] of JOINED_HEADER_PAIRS) header = header.replace(pair, joined);
  const columns = header.split(/\s+/);
  const local = columns.indexOf('local_address');
  const inode = columns.indexOf('inode');
  if (local < 0) return [];
  const rows: UdpSocketRow[] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    const address = fields[local];
    const colon = address?.lastIndexOf(':') ?? -1;
    if (!address || colon < 0) continue;
    const port = Number.parseInt(address.slice(colon + 1), 16);
    if (!Number.isInteger(port)) continue;
    rows.push({ localAddress: address.slice(0, colon), localPort: port, inode: inode >= 0 ? Number(fields[inode]) : Number.NaN });
  }
  return rows;
}

/** The inodes of a process's sockets, from its fd links (`socket:[12345]`); undefined if unreadable. */
export async function socketInodesOf(pid: number): Promise<Set<number> | undefined> {
  const dir = `/proc/${pid}/fd`;
  try {
    const inodes = new Set<number>();
    for (const fd of await readdir(dir)) {
      const link = await readlink(`${dir}/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m) inodes.add(Number(m[1]));
    }
    return inodes;
  } catch {
    return undefined;
  }
}

export type BindCheck = 'bound' | 'not_bound' | 'unknown';

/**
 * Whether `pid` has a UDP socket bound on `port`, IPv4 or IPv6. 'unknown' where the kernel
 * tables cannot be read (not Linux, a sandbox without /proc/net): callers must not depend on
 * this answer, only use it to act sooner. Where the process's fds cannot be read, any socket
 * on the port counts.
 */
export async function udpPortBoundBy(pid: number, port: number): Promise<BindCheck> {
  const tables = await Promise.all(['/proc/net/udp', '/proc/net/udp6'].map((f) => readFile(f, 'utf8').catch(() => undefined)));
  if (tables.every((t) => t === undefined)) return 'unknown';
  const onPort = tables.flatMap((t) => (t ? parseUdpTable(t) : [])).filter((r) => r.localPort === port);
  if (onPort.length === 0) return 'not_bound';
  const mine = await socketInodesOf(pid);
  if (!mine) return 'bound';
  return onPort.some((r) => mine.has(r.inode)) ? 'bound' : 'not_bound';
}
