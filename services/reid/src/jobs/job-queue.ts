import { LookoutError } from '@lookout/contracts';
import { fairlyAdmitted } from '@lookout/service-kit';

interface Waiting {
  key: string;
  start: () => void;
}

/**
 * Runs tasks at most `concurrency` at once and never two of one key at once (a stream's
 * frames go through its state one by one: a job's retry that overlaps the first try waits
 * for it), in arrival order among the keys that are free. About `max` wait: past that a
 * task is refused with `busy` at once, so a caller tries again later (or another replica)
 * instead of waiting past its timeout, unless its key holds less than a fair share of the
 * places (service-kit fairlyAdmitted: two jobs at once both keep going).
 */
export class KeyedQueue {
  private readonly waiting: Waiting[] = [];
  private readonly busyKeys = new Set<string>();
  private running = 0;
  private idle: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly max: number,
  ) {}

  /** Tasks waiting for a slot or for their key. */
  get size(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Waiting = {
        key,
        start: () => {
          void task()
            .then(resolve, reject)
            .finally(() => this.finish(key));
        },
      };
      this.waiting.push(entry);
      this.pump();
      if (this.waiting.at(-1) === entry && !this.admits(key)) {
        this.waiting.pop();
        reject(new LookoutError('busy', `${this.waiting.length} recording-job frames already wait on this replica`));
      }
    });
  }

  /** Whether the entry of `key` just queued last may stay. */
  private admits(key: string): boolean {
    const others = this.waiting.slice(0, -1);
    const owners = new Set(this.waiting.map((w) => w.key)).size;
    return fairlyAdmitted({ waiting: others.length, waitingOfOwner: others.filter((w) => w.key === key).length, owners, max: this.max });
  }

  /** Resolves when nothing runs or waits (for shutdown). */
  drained(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private finish(key: string): void {
    this.running--;
    this.busyKeys.delete(key);
    this.pump();
    if (this.running === 0 && this.waiting.length === 0) for (const done of this.idle.splice(0)) done();
  }

  private pump(): void {
    while (this.running < this.concurrency) {
      const i = this.waiting.findIndex((w) => !this.busyKeys.has(w.key));
      if (i < 0) return;
      const [next] = this.waiting.splice(i, 1);
      this.running++;
      this.busyKeys.add(next!.key);
      next!.start();
    }
  }
}
