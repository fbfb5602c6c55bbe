import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

export interface Spawned {
  readonly child: ChildProcess;
  readonly name: string;
  /** Every stdout/stderr line so far (for failure messages). */
  readonly output: string[];
  /** Resolves with the first line for which `match` returns true (rejects on exit first, or after `timeoutMs`, default 30 s). */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null if killed). */
  stop(graceMs?: number): Promise<number | null>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<Spawned>();
/** Processes with a waitForLine still pending, and the tail of their output. */
const waiting = new Map<Spawned, () => string>();

// If the test or benchmark process dies before its cleanup runs (an uncaught error, a
// timeout), take its children with it rather than leave them running.
process.on('exit', () => {
  for (const p of live) p.child.kill('SIGKILL');
});

/**
 * Stops every process spawned by this test file that is still running. One still waited
 * for (jest's hook timeout came before the wait's own) has its output printed first: on a
 * slow machine that is the only trace of why it never got ready.
 */
export async function stopAllProcesses(): Promise<void> {
  for (const [p, tail] of waiting) console.error(`${p.name} was still being waited for when the test ended; last output:\n${tail()}`);
  waiting.clear();
  await Promise.all([...live].map((p) => p.stop()));
}

interface Waiter {
  match: (l: string) => boolean;
  resolve: (l: string) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** The lines of one process and the waits on them. */
class LineLog {
  readonly output: string[] = [];
  private readonly waiters = new Set<Waiter>();

  constructor(
    private readonly name: string,
    private readonly onPending: (pending: boolean) => void,
  ) {}

  tail = (): string => this.output.slice(-30).join('\n');

  push(line: string): void {
    this.output.push(line);
    if (this.output.length > 2000) this.output.shift();
    for (const w of this.waiters) if (w.match(line)) this.settle(w).resolve(line);
  }

  wait(match: (l: string) => boolean, timeoutMs: number): Promise<string> {
    const seen = this.output.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(w).reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for a line; last output:\n${this.tail()}`)), timeoutMs);
      const w: Waiter = { match, resolve, reject, timer };
      this.waiters.add(w);
      this.onPending(true);
    });
  }

  /** The process ended: every wait fails with its exit status. */
  exited(code: number | null, signal: NodeJS.Signals | null): void {
    for (const w of this.waiters) this.settle(w).reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) before the expected line; last output:\n${this.tail()}`));
  }

  private settle(w: Waiter): Waiter {
    clearTimeout(w.timer);
    this.waiters.delete(w);
    if (this.waiters.size === 0) this.onPending(false);
    return w;
  }
}

/** Spawns a process whose output is captured line by line; it never outlives the test. */
export function spawnProcess(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Spawned {
  const child = spawn(command, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = new LineLog(name, (pending) => (pending ? waiting.set(spawned, lines.tail) : waiting.delete(spawned)));
  for (const stream of [child.stdout!, child.stderr!]) readline.createInterface({ input: stream }).on('line', (line) => lines.push(line));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // A command that cannot start (ENOENT) has no 'exit': report it as output, not a crash.
    child.once('error', (err) => (lines.push(`${name}: ${err.message}`), resolve({ code: null, signal: null })));
  });
  // 'close' comes after the last line was read ('exit' may come before it).
  child.once('close', (code: number | null, signal: NodeJS.Signals | null) => lines.exited(code, signal));
  const spawned: Spawned = {
    child,
    name,
    output: lines.output,
    exited,
    waitForLine: (match, timeoutMs = 30_000) => lines.wait(match, timeoutMs),
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const { code } = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  live.add(spawned);
  void exited.then(() => live.delete(spawned));
  return spawned;
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
