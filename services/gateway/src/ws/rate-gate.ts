/**
 * A token bucket per key: on average one pass every `intervalMs`, at most `burst` in a row.
 * The preview feed's rate limit, applied where previews are made (burst 1: one frame per
 * interval of an uploaded stream) and again where they are fanned out to sockets (a burst
 * of 2 absorbs network jitter), so nothing that publishes on `previews.*` can push a
 * viewer past the rate. Idle keys are forgotten, so the map stays as small as the active
 * streams.
 */
export class RateGate {
  private readonly state = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly burst = 1,
    private readonly maxKeys = 10_000,
  ) {}

  get size(): number {
    return this.state.size;
  }

  /** True (and a token is spent) when `key` may pass now. */
  pass(key: string, nowMs: number): boolean {
    const s = this.state.get(key);
    // A clock that went back restarts the key rather than locking it out.
    const tokens = s && nowMs >= s.atMs ? Math.min(this.burst, s.tokens + (nowMs - s.atMs) / this.intervalMs) : this.burst;
    if (tokens < 1) return false;
    // Re-inserted, so the map's order is least recently passed first.
    this.state.delete(key);
    this.state.set(key, { tokens: tokens - 1, atMs: nowMs });
    if (this.state.size > this.maxKeys) this.forget(nowMs);
    return true;
  }

  /** Drops keys whose bucket is full again (they pass anyway); then the oldest while too many. */
  private forget(nowMs: number): void {
    const full = this.intervalMs * this.burst;
    for (const [k, s] of this.state) if (nowMs - s.atMs >= full) this.state.delete(k);
    for (const k of this.state.keys()) {
      if (this.state.size <= this.maxKeys) break;
      this.state.delete(k);
    }
  }
}
