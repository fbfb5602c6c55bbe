import type { createWorker as CreateWorker, types } from 'mediasoup';
import { Counter, type Logger, type Registry } from '@lookout/service-kit';
import { TypedEmitter } from '../typed-emitter.js';

export interface WorkerPoolOptions {
  workerBin: string;
  size: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  logLevel: types.WorkerLogLevel;
  log: Logger;
  metrics: Registry;
  /** Delay before a dead worker is replaced, so a crash loop does not spin a core. */
  respawnDelayMs?: number;
}

export type WorkerPoolEvents = {
  /** A worker died (its routers with it); a replacement is on its way unless the pool is closed. */
  workerdied: [index: number, pid: number];
};

/**
 * mediasoup workers, one per core by default. A worker that dies is replaced; the pool
 * emits `workerdied` so the room layer can tell its peers. The pool belongs to main.ts:
 * its close() closes every worker, and after it the pool emits nothing.
 */
export class WorkerPool extends TypedEmitter<WorkerPoolEvents> {
  private readonly workers: Array<types.Worker | undefined>;
  private closed = false;
  private readonly deaths: Counter;

  private constructor(
    private readonly opts: WorkerPoolOptions,
    private readonly createWorker: typeof CreateWorker,
  ) {
    super((event, err) => opts.log.error({ err, event }, 'worker pool listener failed'));
    this.workers = new Array<types.Worker | undefined>(opts.size).fill(undefined);
    this.deaths = new Counter({ name: 'lookout_sfu_worker_deaths_total', help: 'mediasoup workers that died', registers: [opts.metrics] });
  }

  static async start(opts: WorkerPoolOptions): Promise<WorkerPool> {
    // mediasoup reads the binary's path from the environment when its module loads.
    process.env.MEDIASOUP_WORKER_BIN = opts.workerBin;
    const { createWorker } = await import('mediasoup');
    const pool = new WorkerPool(opts, createWorker);
    await Promise.all(pool.workers.map((_, i) => pool.spawn(i)));
    return pool;
  }

  /** True when every slot has a live worker. */
  healthy(): boolean {
    return this.workers.every((w) => w !== undefined && !w.closed);
  }

  /** Live workers, for placing routers. */
  live(): types.Worker[] {
    return this.workers.filter((w): w is types.Worker => w !== undefined && !w.closed);
  }

  get pids(): number[] {
    return this.workers.flatMap((w) => (w ? [w.pid] : []));
  }

  private async spawn(index: number): Promise<void> {
    const worker = await this.createWorker({
      logLevel: this.opts.logLevel,
      rtcMinPort: this.opts.rtcMinPort,
      rtcMaxPort: this.opts.rtcMaxPort,
      appData: { index },
    });
    worker.on('died', (err: Error) => {
      this.workers[index] = undefined;
      this.deaths.inc();
      this.opts.log.error({ err, pid: worker.pid, index }, 'mediasoup worker died');
      if (this.closed) return;
      this.emit('workerdied', index, worker.pid);
      setTimeout(() => {
        if (this.closed) return;
        this.spawn(index).catch((e: unknown) => this.opts.log.error({ err: e, index }, 'could not replace mediasoup worker'));
      }, this.opts.respawnDelayMs ?? 1000).unref();
    });
    this.workers[index] = worker;
    this.opts.log.info({ pid: worker.pid, index }, 'mediasoup worker started');
  }

  /**
   * Closes every worker and waits until their processes are gone, so the SFU never exits
   * ahead of a worker still shutting down (which would leave it orphaned).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.removeAllListeners();
    const pids = this.pids;
    for (const w of this.workers) w?.close();
    this.workers.fill(undefined);
    await Promise.all(pids.map((pid) => waitForExit(pid, 2000)));
  }
}

/**
 * mediasoup's Worker.close() removes its own 'exit' listeners and drops the child handle,
 * so there is no event left to await: poll the pid (node reaps its children), then SIGKILL.
 */
async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
