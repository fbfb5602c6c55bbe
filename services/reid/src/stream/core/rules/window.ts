/**
 * Sustained evidence for rules whose input is a noisy score that arrives now and then
 * (spoof_suspected: a fresh liveness result about once a second). A run of N consecutive
 * low results opens on a short burst (two results in a head turn, a motion-blurred frame,
 * a picture edge in the crop) and one good result in the middle of an attack resets it.
 * Instead: keep the fresh results of one track over a sliding window and open when enough
 * of them, spanning long enough, say "low". Plain JSON (kept in the stream's KV entry).
 */

/** One fresh result of the window's track. */
export interface WindowSample {
  ms: number;
  seq: number;
  /** The condition held for this result (liveness said "not live"). */
  low: boolean;
  value?: number;
}

export interface WindowState {
  /** Whose results these are (`t:<trackId>`): another track starts a new window. */
  key: string;
  samples: WindowSample[];
}

export interface WindowThreshold {
  /** Results older than this (before the newest) leave the window. */
  windowMs: number;
  /** At least this many results in the window… */
  minResults: number;
  /** …spanning at least this long, first to last… */
  minMs: number;
  /** …with at least this share of them low. */
  minShare: number;
}

/** A bound on the stored samples whatever the window: a liveness cadence of 0 runs every frame. */
const MAX_SAMPLES = 512;

/** The window after `sample` of track `key`: a new track starts afresh; old results fall out. */
export function pushSample(prev: WindowState | undefined, key: string, sample: WindowSample, windowMs: number): WindowState {
  const kept = prev && prev.key === key ? prev.samples : [];
  const samples = [...kept, sample].filter((s) => s.ms > sample.ms - windowMs);
  return { key, samples: samples.slice(-MAX_SAMPLES) };
}

export interface Evidence {
  held: boolean;
  lowShare: number;
  /** The first low result in the window: where an episode opened now starts. */
  firstLow?: WindowSample;
  /** The lowest value among the low results. */
  lowest?: number;
}

export function evidence(w: WindowState, t: WindowThreshold): Evidence {
  const s = w.samples;
  const lows = s.filter((x) => x.low);
  const lowShare = s.length ? lows.length / s.length : 0;
  const span = s.length ? s[s.length - 1]!.ms - s[0]!.ms : 0;
  const held = s.length >= t.minResults && span >= t.minMs && lowShare >= t.minShare;
  const values = lows.map((x) => x.value).filter((v): v is number => v !== undefined);
  const out: Evidence = { held, lowShare };
  if (lows[0]) out.firstLow = lows[0];
  if (values.length) out.lowest = Math.min(...values);
  return out;
}
