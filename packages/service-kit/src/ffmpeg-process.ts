import { spawn, type ChildProcess } from 'node:child_process';
import { processCpuSeconds } from './proc-stat.js';

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT for a wrong FFMPEG_PATH). */
  spawnError?: Error;
}

export interface FfmpegProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last lines ffmpeg wrote to stderr (for error messages). */
  stderrTail(): string;
  /** Resolves (never rejects) once the process is gone or failed to start. */
  readonly exited: Promise<FfmpegExit>;
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
  // 'close', not 'exit': by then stderr is read to its end, so the tail says why it exited.
  // A spawn failure emits 'error' (and 'close'): the error is what to report.
  const exited = new Promise<FfmpegExit>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', (spawnError) => child.pid === undefined && resolve({ code: null, signal: null, spawnError }));
  });
  let stopping: Promise<void> | undefined;
  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
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
      return child.pid === undefined ? 0 : ((await processCpuSeconds(child.pid)) ?? 0);
    },
  };
}

/** An exit in words, for logs and the stream's analysis reason. */
export function describeExit(binary: string, exit: FfmpegExit, stderr: string): string {
  if (exit.spawnError) return `cannot run ${binary}: ${exit.spawnError.message}`;
  const how = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return stderr ? `ffmpeg ${how}: ${stderr}` : `ffmpeg ${how}`;
}
