import type { KV } from '@nats-io/kv';

const PRUNE_AT = 10_000;

/**
 * The per-identity cooldown of recognition events, shared by every replica through KV
 * (`lookout_recognition_cooldown`, key `<room>.<subject>`): a replica may emit only after
 * it moved the entry's time forward by compare-and-set, so two replicas seeing the same
 * person at once emit one event. Times are capture times, so replays are deterministic.
 * A local copy of the last known time saves the round trip while a cooldown clearly runs.
 */
export class RecognitionGate {
  private readonly known = new Map<string, number>();

  constructor(private readonly kv: KV) {}

  async claim(key: string, atMs: number, cooldownMs: number): Promise<boolean> {
    const local = this.known.get(key);
    if (local !== undefined && atMs - local < cooldownMs) return false;
    const e = await this.kv.get(key);
    const revision = e?.revision ?? 0;
    if (e?.operation === 'PUT') {
      const last = Number(e.string());
      if (Number.isFinite(last) && atMs - last < cooldownMs) {
        this.remember(key, last, cooldownMs);
        return false;
      }
    }
    try {
      if (revision === 0) await this.kv.create(key, String(atMs));
      else await this.kv.update(key, String(atMs), revision);
    } catch {
      return false; // another replica claimed it first
    }
    this.remember(key, atMs, cooldownMs);
    return true;
  }

  private remember(key: string, atMs: number, cooldownMs: number): void {
    if (this.known.size >= PRUNE_AT) {
      for (const [k, t] of this.known) if (atMs - t >= cooldownMs) this.known.delete(k);
    }
    this.known.set(key, atMs);
  }
}
