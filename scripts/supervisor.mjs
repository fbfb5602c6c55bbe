// Keeps `npm start`'s child processes running: a child that dies after it was ready is
// restarted with exponential backoff; one that keeps dying is given up on, with the reason.
// A child that dies before its first ready line is a start-up failure: not restarted, the
// caller decides (npm start stops everything, as a broken configuration never heals).
import { spawn } from 'node:child_process';
import readline from 'node:readline';

/**
 * The defaults of the restart policy, and the environment variables overriding them:
 *   RESTART_MAX           restarts allowed within the window; one more crash gives up (5)
 *   RESTART_WINDOW_S      the window crashes are counted in; a child up this long also
 *                         starts its backoff again from the beginning (120)
 *   RESTART_BACKOFF_S     delay before the first restart, doubled for each further one (1)
 *   RESTART_BACKOFF_MAX_S the longest delay (30)
 */
export const RESTART_DEFAULTS = { max: 5, windowMs: 120_000, backoffMs: 1000, backoffMaxMs: 30_000 };

const ENV_NAMES = { max: 'RESTART_MAX', windowMs: 'RESTART_WINDOW_S', backoffMs: 'RESTART_BACKOFF_S', backoffMaxMs: 'RESTART_BACKOFF_MAX_S' };

/** The restart policy from the environment; throws naming the variable that is not a number ≥ 0. */
export function restartPolicyFromEnv(env) {
  const policy = { ...RESTART_DEFAULTS };
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || (key === 'max' && !Number.isInteger(n))) throw new Error(`${name}=${raw}: expected ${key === 'max' ? 'a whole number' : 'seconds'} ≥ 0`);
    policy[key] = key === 'max' ? n : n * 1000;
  }
  return policy;
}

/**
 * The restart bookkeeping of one child, without processes or clocks (tested on its own):
 * crashes within the window, the backoff step, and the number of restarts so far.
 */
export class RestartTracker {
  constructor(policy = RESTART_DEFAULTS) {
    this.policy = policy;
    this.crashes = [];
    this.step = 0;
    this.restarts = 0;
  }

  /**
   * A crash at `now` of the child started at `startedAt` (ms): either
   * `{ giveUp: true, crashes, spanMs }` or `{ giveUp: false, delayMs, restart }`.
   */
  crashed(now, startedAt) {
    const { max, windowMs, backoffMs, backoffMaxMs } = this.policy;
    // A child that stayed up for a whole window was healthy: its next trouble starts afresh.
    if (now - startedAt >= windowMs) this.step = 0;
    this.crashes = [...this.crashes.filter((t) => now - t < windowMs), now];
    if (this.crashes.length > max) return { giveUp: true, crashes: this.crashes.length, spanMs: now - this.crashes[0] };
    const delayMs = Math.min(backoffMs * 2 ** this.step, backoffMaxMs);
    this.step += 1;
    this.restarts += 1;
    return { giveUp: false, delayMs, restart: this.restarts };
  }
}

/** SIGKILL to what is left of a dead child's process group (its orphans); nothing left is fine. */
function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is empty
  }
}

const TAIL_LINES = 10;
const CLOSE_GRACE_MS = 1000;
const seconds = (ms) => `${Number((ms / 1000).toFixed(2))} s`;

/** "code 3" or "signal SIGKILL": how a child ended. */
export function exitDescription(code, signal) {
  return signal ? `signal ${signal}` : `code ${code}`;
}

/**
 * Runs named children and restarts them. Options: `policy` (RESTART_DEFAULTS),
 * `log(msg)` for its own lines, `onLine(name, line, stream)` for every child's output,
 * `onGiveUp(name, reason)` when a child keeps dying, `cwd` and `env` for every child,
 * `stopGraceMs` before SIGKILL on stop (15 s).
 */
export class Supervisor {
  constructor({ policy = RESTART_DEFAULTS, log = console.log, onLine = () => {}, onGiveUp = () => {}, cwd, env = process.env, stopGraceMs = 15_000 } = {}) {
    Object.assign(this, { policy, log, onLine, onGiveUp, cwd, env, stopGraceMs });
    this.children = new Map();
    this.stopping = false;
  }

  /**
   * Starts a child: `{ name, command, args, env, ready(line) → boolean, onRestarted(line, restart) }`.
   * Resolves with its first ready line; rejects if it exits before (a start-up failure,
   * not restarted). After that, each time it dies it is restarted (or given up on), and
   * `onRestarted` is called with the ready line of each restarted child.
   */
  start(spec) {
    const entry = { spec, tracker: new RestartTracker(this.policy), proc: undefined, timer: undefined, everReady: false, stderr: [], stdout: [] };
    this.children.set(spec.name, entry);
    return new Promise((resolve, reject) => this.spawn(entry, { resolve, reject }));
  }

  /** The pid of a running child, or undefined (not started, or waiting to be restarted). */
  pid(name) {
    return this.children.get(name)?.proc?.pid;
  }

  spawn(entry, first) {
    const { spec } = entry;
    // Its own process group, so that when it dies the processes it started die with it
    // (below): an SFU killed with SIGKILL leaves its ffmpegs running otherwise, sending
    // RTP to nobody and holding ports its successor wants. Ctrl-C reaches only npm start,
    // which stops the children in order itself.
    const proc = spawn(spec.command, spec.args ?? [], { cwd: this.cwd, env: { ...this.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const startedAt = Date.now();
    let readySeen = false;
    let ended = false;
    entry.proc = proc;
    entry.ended = new Promise((resolve) => (entry.markEnded = resolve));
    for (const [stream, tail] of [
      [proc.stdout, entry.stdout],
      [proc.stderr, entry.stderr],
    ]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        this.onLine(spec.name, line);
        if (readySeen || !spec.ready?.(line)) return;
        readySeen = true;
        if (!entry.everReady) {
          entry.everReady = true;
          first?.resolve(line);
        } else {
          this.log(`${spec.name} is back after restart ${entry.tracker.restarts} (pid ${proc.pid})`);
          spec.onRestarted?.(line, entry.tracker.restarts);
        }
      });
    }
    const onEnd = (code, signal, error) => {
      if (ended) return;
      ended = true;
      entry.proc = undefined;
      entry.markEnded();
      if (this.stopping) return;
      const how = error ? `could not start: ${error.message}` : exitDescription(code, signal);
      if (!entry.everReady) return first?.reject(new Error(`${spec.name} exited before it was ready (${how})`));
      this.crashed(entry, how, startedAt);
    };
    // 'close' comes after the last line was read, so the tail holds its dying words; but a
    // grandchild that inherited the pipes (an ffmpeg) can hold it off: wait a little only.
    const closed = new Promise((resolve) => proc.once('close', resolve));
    proc.once('exit', (code, signal) => {
      killGroup(proc.pid);
      const grace = new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
      void Promise.race([closed, grace]).then(() => onEnd(code, signal));
    });
    // A command that cannot be run (ENOENT) reports 'error' and may never report 'exit'.
    proc.once('error', (err) => onEnd(null, null, err));
  }

  crashed(entry, how, startedAt) {
    const { name } = entry.spec;
    const verdict = entry.tracker.crashed(Date.now(), startedAt);
    if (verdict.giveUp) {
      const lines = entry.stderr.length ? entry.stderr : entry.stdout;
      const which = entry.stderr.length ? 'stderr' : 'output';
      const reason =
        `${name} crashed ${verdict.crashes} time${verdict.crashes === 1 ? '' : 's'} in ${seconds(verdict.spanMs)} (last: ${how}; ` +
        `more than RESTART_MAX=${this.policy.max} restarts within RESTART_WINDOW_S=${this.policy.windowMs / 1000})` +
        (lines.length ? `; its last ${which} lines:\n${lines.map((l) => `    ${l}`).join('\n')}` : '; it printed nothing');
      this.log(`giving up: ${reason}`);
      this.onGiveUp(name, reason);
      return;
    }
    this.log(`${name} exited (${how}); restarting in ${seconds(verdict.delayMs)} (restart ${verdict.restart})`);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (!this.stopping) this.spawn(entry);
    }, verdict.delayMs);
  }

  /**
   * Stops every child, those named in `order` first, one at a time: SIGTERM, then SIGKILL
   * after `stopGraceMs`. No child is restarted from here on.
   */
  async stop(order = []) {
    this.stopping = true;
    for (const entry of this.children.values()) clearTimeout(entry.timer);
    const names = [...order.filter((n) => this.children.has(n)), ...[...this.children.keys()].filter((n) => !order.includes(n))];
    for (const name of names) {
      const { proc, ended } = this.children.get(name);
      if (!proc) continue;
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), this.stopGraceMs);
      await ended;
      clearTimeout(killer);
    }
  }
}
