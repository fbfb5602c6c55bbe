/**
 * A socket's credential checks (the URL's, joins) are asynchronous (jose). They run one
 * after another, and the messages that arrive while one runs wait for it and are then
 * handled in arrival order: "join, then subscribe" keeps its order, and a frame header and
 * its JPEG stay together. (A header used to wait for the check while the JPEG right behind
 * it was handled at once: the JPEG was refused as `unexpected_binary` and the header then
 * waited for a JPEG that never came, so the frame got no answer — the WebSocket fuzz's
 * "unanswered frame uploads".) With no check running a message is handled at once.
 */
export class CredentialChecks {
  private chain: Promise<unknown> = Promise.resolve();
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    /** Messages that may wait; admit() refuses more. */
    private readonly maxWaiting: number,
    /** A closing socket handles nothing more. */
    private readonly isClosing: () => boolean,
  ) {}

  /** Runs `check` after the checks before it. */
  run<T>(check: () => Promise<T>): Promise<T> {
    this.inFlight++;
    const done = this.chain.then(check).finally(() => {
      this.inFlight--;
      // After the check's own answer (its caller's then/catch: a join's ack, a refusal and close).
      if (this.waiting.length > 0) setImmediate(() => this.handleWaiting());
    });
    this.chain = done.catch(() => undefined);
    return done;
  }

  /** Handles a message now, or once the checks are done, in order; false when too many wait. */
  admit(handle: () => void): boolean {
    if (this.inFlight === 0 && this.waiting.length === 0) {
      handle();
      return true;
    }
    if (this.waiting.length >= this.maxWaiting) return false;
    this.waiting.push(handle);
    return true;
  }

  private handleWaiting(): void {
    while (this.inFlight === 0 && this.waiting.length > 0 && !this.isClosing()) this.waiting.shift()!();
    if (this.isClosing()) this.waiting.length = 0;
  }
}
