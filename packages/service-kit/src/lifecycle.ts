import type { Logger } from './logger.js';

type Closer = () => Promise<void> | void;

/**
 * Ordered shutdown. Closers run in reverse registration order (last opened, first closed),
 * each awaited, each failure logged without stopping the rest. A deadline bounds the whole
 * thing so a stuck close can never keep a pod in Terminating forever.
 */
export class Lifecycle {
  private readonly closers: Array<{ name: string; close: Closer }> = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly log: Logger,
    private readonly timeoutMs: number,
  ) {}

  get shuttingDown(): boolean {
    return this.stopping !== undefined;
  }

  onShutdown(name: string, close: Closer): void {
    this.closers.push({ name, close });
  }

  /** Runs every closer once; later calls return the same promise. */
  shutdown(reason: string): Promise<void> {
    this.stopping ??= this.runClosers(reason);
    return this.stopping;
  }

  private async runClosers(reason: string): Promise<void> {
    this.log.info({ reason }, 'shutting down');
    for (const { name, close } of [...this.closers].reverse()) {
      try {
        await close();
      } catch (err) {
        this.log.error({ err, closer: name }, 'error while closing');
      }
    }
    this.log.info('shutdown complete');
  }

  /** SIGTERM/SIGINT → shutdown → exit 0; exit 1 if the deadline passes first. */
  installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.shuttingDown) return;
      const timer = setTimeout(() => {
        this.log.error({ timeoutMs: this.timeoutMs }, 'shutdown deadline passed, forcing exit');
        process.exit(1);
      }, this.timeoutMs);
      timer.unref();
      void this.shutdown(signal).then(() => process.exit(0));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
}
