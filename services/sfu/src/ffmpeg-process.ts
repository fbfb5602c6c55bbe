import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface FfmpegProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last lines ffmpeg wrote to stderr (for error messages). */
  stderrTail(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, a second SIGTERM (ffmpeg ignores one while waiting on a silent socket), SIGKILL after 1 s. */
  stop(): Promise<void>;
  /** CPU seconds (user + system) so far, from /proc. */
  cpuSeconds(): Promise<number>;
}

export function startFfmpeg(binary: string, args: string[], stdin?: string): FfmpegProcess {
  const child = spawn(binary, ['-hide_banner', '-loglevel', 'error', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const tail: string[] = [];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    tail.push(...s.split('\n').filter(Boolean));
    if (tail.length > 20) tail.splice(0, tail.length - 20);
  });
  child.stdin!.on('error', () => undefined);
  if (stdin !== undefined) child.stdin!.end(stdin);
  else child.stdin!.end();
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  let stopping: Promise<void> | undefined;
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: child.pid ?? -1,
    stderrTail: () => tail.slice(-5).join(' | '),
    exited,
    stop() {
      stopping ??= (async () => {
        if (!running()) return;
        child.kill('SIGTERM');
        const second = setTimeout(() => running() && child.kill('SIGTERM'), 300);
        const kill = setTimeout(() => running() && child.kill('SIGKILL'), 1000);
        await exited;
        clearTimeout(second);
        clearTimeout(kill);
      })();
      return stopping;
    },
    async cpuSeconds() {
      const { readFile } = await import('node:fs/promises');
      try {
        const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(f[11]) + Number(f[12])) / 100;
      } catch {
        return 0;
      }
    },
  };
}
