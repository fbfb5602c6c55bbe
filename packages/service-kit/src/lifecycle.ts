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
    safeLog(() => this.log.info({ reason }, 'shutting down'));
    for (const { name, close } of [...this.closers].reverse()) {
      try {
        await close();
      } catch (err) {
        safeLog(() => this.log.error({ err, closer: name }, 'error while closing'));
      }
    }
    safeLog(() => this.log.info('shutdown complete'));
  }

  /** SIGTERM/SIGINT → shutdown → exit 0; exit 1 if the deadline passes first. */
  installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.shuttingDown) return;
      const timer = setTimeout(() => exitAfter(1, () => this.log.error({ timeoutMs: this.timeoutMs }, 'shutdown deadline passed, forcing exit')), this.timeoutMs);
      timer.unref();
      void this.shutdown(signal).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
}

/**
 * Logging can throw (stdout gone: EPIPE when the process that read our output died).
 * Shutdown and exit paths must never depend on it, or an orphan outlives its reason.
 */
export function safeLog(write: () => void): void {
  try {
    write();
  } catch {
    // nothing useful left to do with a log line nobody can read
  }
}

/** Logs (best effort) and exits with `code`, whatever the log call does. */
export function exitAfter(code: number, write: () => void): never {
  safeLog(write);
  process.exit(code);
}
