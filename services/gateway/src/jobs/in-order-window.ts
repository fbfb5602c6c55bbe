/**
 * The frames of one job between the decoder and reid: up to `size` of them at once, sent
 * to the detectors together (replicas answer in any order) and handed to reid strictly in
 * sequence, one at a time, since a stream's state (tracks, identity votes, episodes)
 * advances frame after frame. Pure bookkeeping; the runner makes the calls and retries.
 *
 * `done` is the job's progress: every frame below it went through reid (or could not be
 * analysed at all), which is what a resumed job may skip.
 */
export type Slot<T> = { state: 'detecting' } | { state: 'detected'; value: T } | { state: 'failed' };

/** The frame whose turn it is at reid: analysed, or one the detector could not read (skipped, counted). */
export type Head<T> = { seq: number; failed: false; value: T } | { seq: number; failed: true };

export class InOrderWindow<T> {
  private readonly slots = new Map<number, Slot<T>>();
  private nextSeq: number;
  private doneSeq: number;

  constructor(
    readonly size: number,
    /** The first frame to analyse: frames before it were done by an earlier run. */
    start = 0,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`window size must be a positive integer, not ${size}`);
    this.nextSeq = start;
    this.doneSeq = start;
  }

  /** Frames fully done, in order (the checkpoint). */
  get done(): number {
    return this.doneSeq;
  }

  /** The sequence number the next admitted frame gets. */
  get next(): number {
    return this.nextSeq;
  }

  get inFlight(): number {
    return this.nextSeq - this.doneSeq;
  }

  get full(): boolean {
    return this.inFlight >= this.size;
  }

  /** Takes the next frame in; it is at the detector from now on. */
  admit(seq: number): void {
    if (seq !== this.nextSeq) throw new Error(`frame ${seq} admitted out of order (expected ${this.nextSeq})`);
    if (this.full) throw new Error(`frame ${seq} admitted into a full window`);
    this.slots.set(seq, { state: 'detecting' });
    this.nextSeq++;
  }

  detected(seq: number, value: T): void {
    this.settle(seq, { state: 'detected', value });
  }

  /** The detector could not read the frame: it is skipped (reid never sees it). */
  failed(seq: number): void {
    this.settle(seq, { state: 'failed' });
  }

  /** The frame whose turn it is, once the detector has answered for it; undefined while it has not. */
  head(): Head<T> | undefined {
    const slot = this.slots.get(this.doneSeq);
    if (!slot || slot.state === 'detecting') return undefined;
    return slot.state === 'failed' ? { seq: this.doneSeq, failed: true } : { seq: this.doneSeq, failed: false, value: slot.value };
  }

  /** The head went through reid (or was skipped): the window moves on by one. */
  acknowledge(seq: number): void {
    if (seq !== this.doneSeq || !this.head()) throw new Error(`frame ${seq} acknowledged out of turn (head ${this.doneSeq})`);
    this.slots.delete(seq);
    this.doneSeq++;
  }

  private settle(seq: number, slot: Slot<T>): void {
    const cur = this.slots.get(seq);
    if (cur?.state !== 'detecting') throw new Error(`frame ${seq} is not at the detector`);
    this.slots.set(seq, slot);
  }
}
