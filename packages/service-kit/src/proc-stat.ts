import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/**
 * Reading other processes from Linux /proc, in one place. Every earlier copy assumed
 * something of the machine it was written on: 100 clock ticks a second, a command name
 * without spaces or parentheses, a `task/<pid>/children` file (only with
 * CONFIG_PROC_CHILDREN). Here: the stat line is split at the *last* ')', ticks come from
 * `getconf CLK_TCK`, children are found by scanning every process's parent pid, and RSS
 * comes from VmRSS (kB whatever the page size; statm counts pages, 4 KiB or 64 KiB).
 */

/** The fields of /proc/<pid>/stat that Lookout uses. */
export interface ProcStat {
  pid: number;
  /** Command name as the kernel keeps it: at most 15 bytes, any characters (spaces, ')'). */
  comm: string;
  /** R, S, D, Z, T, I, … */
  state: string;
  ppid: number;
  /** CPU time in clock ticks (see clockTick). */
  utimeTicks: number;
  stimeTicks: number;
}

/** The kernel keeps 15 bytes of a command name (TASK_COMM_LEN 16, with the NUL). */
export const COMM_MAX_BYTES = 15;

/** Parses one /proc/<pid>/stat line; throws on anything else. */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf(' (');
  // comm may itself contain ") " — the fields after it never contain ')'.
  const close = line.lastIndexOf(')');
  if (open < 1 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(line.slice(0, 80))}`);
  const rest = line.slice(close + 2).trim().split(/\s+/);
  const int = (s: string | undefined, what: string) => {
    const n = Number(s);
    if (s === undefined || s === '' || !Number.isSafeInteger(n)) throw new Error(`/proc/<pid>/stat: ${what} is not an integer (${JSON.stringify(s)})`);
    return n;
  };
  return {
    pid: int(line.slice(0, open), 'pid'),
    comm: line.slice(open + 2, close),
    state: rest[0] ?? '',
    ppid: int(rest[1], 'ppid'),
    // Fields 14 and 15 of proc(5); rest[0] is field 3.
    utimeTicks: int(rest[11], 'utime'),
    stimeTicks: int(rest[12], 'stime'),
  };
}

/** Clock ticks per second of the times in /proc/<pid>/stat, and where the number came from. */
export interface ClockTick {
  hz: number;
  source: 'getconf' | 'default';
  /** Why the default was used (getconf missing, odd output). */
  reason?: string;
}

/** What Linux uses on every common architecture; only a guess where getconf cannot answer. */
export const DEFAULT_CLOCK_TICK = 100;

/** The output of `getconf CLK_TCK` as a number, or undefined when it is not a positive integer. */
export function parseClockTick(stdout: string): number | undefined {
  const text = stdout.trim();
  const hz = Number(text);
  return /^\d+$/.test(text) && hz > 0 ? hz : undefined;
}

type Run = () => Promise<string>;

const getconf: Run = () =>
  new Promise((resolve, reject) => {
    execFile('getconf', ['CLK_TCK'], { timeout: 10_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });

/** Asks `run` (default: getconf CLK_TCK) once, falling back to 100 with the reason. */
export async function readClockTick(run: Run = getconf): Promise<ClockTick> {
  let out: string;
  try {
    out = await run();
  } catch (err) {
    return { hz: DEFAULT_CLOCK_TICK, source: 'default', reason: `getconf CLK_TCK failed: ${(err as Error).message}` };
  }
  const hz = parseClockTick(out);
  if (hz === undefined) return { hz: DEFAULT_CLOCK_TICK, source: 'default', reason: `getconf CLK_TCK printed ${JSON.stringify(out.trim())}` };
  return { hz, source: 'getconf' };
}

let cachedTick: Promise<ClockTick> | undefined;

/** This machine's clock tick rate, asked once per process. */
export function clockTick(): Promise<ClockTick> {
  cachedTick ??= readClockTick();
  return cachedTick;
}

/** undefined when the file is gone: the process ended (or never was). */
async function readProcFile(pid: number, file: string): Promise<string | undefined> {
  try {
    return await readFile(`/proc/${pid}/${file}`, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw err;
  }
}

/** The stat of `pid`, or undefined when it has ended. */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  const line = await readProcFile(pid, 'stat');
  return line === undefined ? undefined : parseProcStat(line);
}

/** User + system CPU seconds `pid` has used so far, or undefined when it has ended. */
export async function processCpuSeconds(pid: number): Promise<number | undefined> {
  const [stat, tick] = await Promise.all([readProcStat(pid), clockTick()]);
  return stat === undefined ? undefined : (stat.utimeTicks + stat.stimeTicks) / tick.hz;
}

/** VmRSS of /proc/<pid>/status in bytes (kB × 1024); 0 when it has none (kernel thread, zombie). */
export function parseVmRssBytes(status: string): number {
  const m = /^VmRSS:\s*(\d+)\s*kB\s*$/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Resident memory of `pid` in bytes, or undefined when it has ended. */
export async function processRssBytes(pid: number): Promise<number | undefined> {
  const status = await readProcFile(pid, 'status');
  return status === undefined ? undefined : parseVmRssBytes(status);
}

/** /proc/<pid>/cmdline as arguments (NUL-separated, trailing NUL dropped); [] for kernel threads. */
export function parseCmdline(raw: string): string[] {
  if (raw === '') return [];
  const args = raw.split('\0');
  if (args.at(-1) === '') args.pop();
  return args;
}

/** The command line of `pid`, or undefined when it has ended. */
export async function processCommandLine(pid: number): Promise<string[] | undefined> {
  const raw = await readProcFile(pid, 'cmdline');
  return raw === undefined ? undefined : parseCmdline(raw);
}

/** Every process now running, by pid (those that end while being read are left out). */
export async function processTable(): Promise<Map<number, ProcStat>> {
  const pids = (await readdir('/proc')).filter((e) => /^\d+$/.test(e)).map(Number);
  const stats = await Promise.all(pids.map((pid) => readProcStat(pid).catch(() => undefined)));
  return new Map(stats.filter((s): s is ProcStat => s !== undefined).map((s) => [s.pid, s]));
}

/** True when `comm` is the kernel's (possibly truncated) name for a program called `name`. */
export function commMatches(comm: string, name: string): boolean {
  return comm === Buffer.from(name).subarray(0, COMM_MAX_BYTES).toString();
}

/** Direct children of `parentPid` from a process table, optionally only those named `name`. */
export function childrenIn(table: ReadonlyMap<number, ProcStat>, parentPid: number, name?: string): number[] {
  return [...table.values()].filter((s) => s.ppid === parentPid && (name === undefined || commMatches(s.comm, name))).map((s) => s.pid);
}

/** `rootPid` and everything below it, from a process table (root first, then breadth-first). */
export function descendantsIn(table: ReadonlyMap<number, ProcStat>, rootPid: number): number[] {
  const out = [rootPid];
  for (let i = 0; i < out.length; i++) out.push(...childrenIn(table, out[i]!));
  return out.filter((pid) => table.has(pid));
}

/** pids of the running children of `parentPid` (named `name`: see commMatches). */
export async function childPids(parentPid: number, name?: string): Promise<number[]> {
  return childrenIn(await processTable(), parentPid, name);
}

/**
 * The first processor block of /proc/cpuinfo as fields by lower-cased header name ("model
 * name", "flags", arm64's "features"…): the layout differs by architecture and kernel, so
 * nothing is read by position. Empty when there is no such block.
 */
export function parseCpuInfoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (fields.size > 0) break;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (!fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
  }
  return fields;
}

/** This machine's /proc/cpuinfo fields (parseCpuInfoFields); empty where there is no /proc. */
export function readCpuInfoFields(): Map<string, string> {
  try {
    return parseCpuInfoFields(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return new Map();
  }
}
