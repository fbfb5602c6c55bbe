import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
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

// If the test or benchmark process dies before its cleanup runs (an uncaught error, a
// timeout), take its children with it rather than leave them running.
process.on('exit', () => {
  for (const p of live) p.child.kill('SIGKILL');
});

/** Stops every process spawned by this test file that is still running. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

/** Spawns a process whose output is captured line by line; it never outlives the test. */
export function spawnProcess(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Spawned {
  const child = spawn(command, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const waiters = new Set<{ match: (l: string) => boolean; resolve: (l: string) => void }>();
  for (const stream of [child.stdout!, child.stderr!]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      output.push(line);
      if (output.length > 2000) output.shift();
      for (const w of waiters) {
        if (w.match(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    });
  }
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const tail = () => output.slice(-30).join('\n');
  const spawned: Spawned = {
    child,
    name,
    output,
    exited,
    waitForLine(match, timeoutMs = 30_000) {
      const seen = output.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve: (l: string) => (clearTimeout(timer), resolve(l)) };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${name}: timed out waiting for a line; last output:\n${tail()}`));
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then(({ code, signal }) => {
          if (!waiters.has(waiter)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${code}, signal ${signal}) before the expected line; last output:\n${tail()}`));
        });
      });
    },
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
