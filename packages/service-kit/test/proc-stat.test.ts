import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  childPids,
  childrenIn,
  clockTick,
  commMatches,
  descendantsIn,
  parseClockTick,
  parseCmdline,
  parseProcStat,
  parseVmRssBytes,
  processCommandLine,
  processCpuSeconds,
  processRssBytes,
  processTable,
  readClockTick,
  readProcStat,
  type ProcStat,
} from '@lookout/service-kit';

// Lines captured on Debian 12 (kernel 6.x, x86_64). The second is /bin/sleep copied to a
// file named "a b) (c"; the third a shell that wrote "x) (y z" to its /proc/self/comm.
const SAMPLES = {
  plain: '9574 (cat) R 9572 9572 6911 0 -1 4194304 98 0 0 0 0 0 0 0 20 0 1 0 59081 3133440 359 18446744073709551615 93826296553472 93826296573353 140731739885328 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 93826296589360 93826296590976 93826777604096 140731739892254 140731739892274 140731739892274 140731739893739 0\n',
  spaces: '9582 (a b) (c) S 9572 9572 6911 0 -1 4194304 131 0 0 0 0 0 0 0 20 0 1 0 59088 2990080 410 18446744073709551615 94243700473856 94243700491785 140730053892736 0 0 0 0 6 0 1 0 0 17 0 0 0 0 0 0 94243700505872 94243700507136 94244462858240 140730053900790 140730053900820 140730053900820 140730053902300 0\n',
  comm: '9594 (x) (y z) S 9572 9572 6911 0 -1 4194304 179 0 0 0 0 0 0 0 20 0 1 0 59111 4464640 784 18446744073709551615 94022932373504 94022933162909 140720692511584 0 0 0 65536 4 65538 1 0 0 17 0 0 0 0 0 0 94022933396208 94022933444452 94023281594368 140720692513243 140720692513328 140720692513328 140720692514794 0\n',
  kthread: '2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 19 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n',
  busy: '1 (process_api) S 0 0 0 0 -1 4194560 23987 7931082 0 1582 119 307 38231 12722 10 -10 18 0 19 50413568 2856 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n',
};

describe('/proc/<pid>/stat parsing', () => {
  it('reads pid, comm, state, ppid and CPU ticks from real lines', () => {
    expect(parseProcStat(SAMPLES.plain)).toEqual({ pid: 9574, comm: 'cat', state: 'R', ppid: 9572, utimeTicks: 0, stimeTicks: 0 });
    expect(parseProcStat(SAMPLES.busy)).toEqual({ pid: 1, comm: 'process_api', state: 'S', ppid: 0, utimeTicks: 119, stimeTicks: 307 });
  });

  it('keeps spaces and parentheses in the command name', () => {
    expect(parseProcStat(SAMPLES.spaces)).toMatchObject({ pid: 9582, comm: 'a b) (c', state: 'S', ppid: 9572 });
    expect(parseProcStat(SAMPLES.comm)).toMatchObject({ pid: 9594, comm: 'x) (y z', ppid: 9572 });
  });

  it('reads a kernel thread (ppid 0)', () => {
    expect(parseProcStat(SAMPLES.kthread)).toEqual({ pid: 2, comm: 'kthreadd', state: 'S', ppid: 0, utimeTicks: 0, stimeTicks: 0 });
  });

  it('refuses what is not a stat line', () => {
    expect(() => parseProcStat('')).toThrow(/not a \/proc/);
    expect(() => parseProcStat('12 (x) S')).toThrow(/ppid/);
    expect(() => parseProcStat('Name:\tcat\n')).toThrow();
  });
});

describe('clock ticks', () => {
  it('uses what getconf prints', async () => {
    expect(await readClockTick(async () => '250\n')).toEqual({ hz: 250, source: 'getconf' });
    expect(parseClockTick(' 1024 ')).toBe(1024);
  });

  it('falls back to 100 with the reason', async () => {
    expect(await readClockTick(async () => 'undefined\n')).toEqual({ hz: 100, source: 'default', reason: 'getconf CLK_TCK printed "undefined"' });
    const missing = await readClockTick(async () => Promise.reject(new Error('spawn getconf ENOENT')));
    expect(missing).toMatchObject({ hz: 100, source: 'default', reason: expect.stringContaining('ENOENT') });
    expect(parseClockTick('0')).toBeUndefined();
    expect(parseClockTick('-1')).toBeUndefined();
  });

  it("asks this machine once and agrees with getconf", async () => {
    const first = clockTick();
    expect(clockTick()).toBe(first);
    expect((await first).hz).toBe(Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })));
  });
});

describe('status and cmdline parsing', () => {
  it('reads VmRSS in bytes; a kernel thread has none', () => {
    expect(parseVmRssBytes('Name:\tgrep\nState:\tR (running)\nPPid:\t9834\nVmRSS:\t    2168 kB\nRssAnon:\t 100 kB\n')).toBe(2168 * 1024);
    expect(parseVmRssBytes('Name:\tkthreadd\nUmask:\t0022\nState:\tS (sleeping)\n')).toBe(0);
  });

  it('splits the command line at NULs', () => {
    expect(parseCmdline('/tmp/a b) (c\x0030\x00')).toEqual(['/tmp/a b) (c', '30']);
    expect(parseCmdline('')).toEqual([]);
  });

  it('matches command names the kernel truncated to 15 bytes', () => {
    expect(commMatches('mediasoup-worke', 'mediasoup-worker')).toBe(true);
    expect(commMatches('mediasoup-worke', 'mediasoup-worke')).toBe(true);
    expect(commMatches('ffmpeg', 'ffmpeg2')).toBe(false);
  });

  it('walks children and descendants of a process table', () => {
    const p = (pid: number, ppid: number, comm: string): [number, ProcStat] => [pid, { pid, ppid, comm, state: 'S', utimeTicks: 0, stimeTicks: 0 }];
    const table = new Map([p(10, 1, 'node'), p(11, 10, 'ffmpeg'), p(12, 10, 'mediasoup-worke'), p(13, 11, 'sh'), p(20, 1, 'other')]);
    expect(childrenIn(table, 10)).toEqual([11, 12]);
    expect(childrenIn(table, 10, 'mediasoup-worker')).toEqual([12]);
    expect(descendantsIn(table, 10)).toEqual([10, 11, 12, 13]);
    expect(descendantsIn(table, 99)).toEqual([]);
  });
});

describe('reading live processes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-proc-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds a child whose name has spaces and parentheses, with its command line', async () => {
    const odd = path.join(dir, 'a b) (c');
    fs.copyFileSync('/bin/sleep', odd);
    fs.chmodSync(odd, 0o755);
    const child = spawn(odd, ['30'], { stdio: 'ignore' });
    try {
      await once(child, 'spawn');
      const pid = child.pid!;
      // exec happens after 'spawn': wait until the kernel shows the new name.
      while ((await readProcStat(pid))?.comm !== 'a b) (c') await new Promise((r) => setTimeout(r, 10));
      expect(await childPids(process.pid, 'a b) (c')).toEqual([pid]);
      expect((await processTable()).get(pid)).toMatchObject({ comm: 'a b) (c', ppid: process.pid });
      expect(await processCommandLine(pid)).toEqual([odd, '30']);
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });

  it('converts CPU ticks with the real tick rate and reads RSS', async () => {
    const usage = process.cpuUsage();
    const cpu = await processCpuSeconds(process.pid);
    // Whole ticks against microseconds: equal within a few ticks, far from a 10× wrong rate.
    expect(Math.abs(cpu! - (usage.user + usage.system) / 1e6)).toBeLessThan(0.3);
    const rss = (await processRssBytes(process.pid))!;
    expect(rss / process.memoryUsage().rss).toBeGreaterThan(0.8);
    expect(rss / process.memoryUsage().rss).toBeLessThan(1.25);
  });

  it('answers undefined for a process that has ended', async () => {
    const child = spawn('true');
    await once(child, 'exit');
    expect(await readProcStat(child.pid!)).toBeUndefined();
    expect(await processCpuSeconds(child.pid!)).toBeUndefined();
    expect(await processRssBytes(child.pid!)).toBeUndefined();
    expect(await processCommandLine(child.pid!)).toBeUndefined();
  });
});
