import { associate } from './association.js';
import { nextPrincipal, principalView } from './principal.js';
import { continueTrack, createTrack, missTrack } from './track.js';
import type { ObservedFace, PrincipalView, TrackedFace, TrackerState, TrackState } from './types.js';

export interface TrackerConfig {
  /** Minimum box overlap to continue a track by position. */
  iouMin: number;
  /** Cosine to the track's mean embedding below which a face is a different person, whatever the boxes say. */
  sameFaceSim: number;
  /** Cosine at which a face may rejoin a track by appearance alone (no box overlap). */
  reacquireSim: number;
  /** Frames a track may go unseen before it is dropped. */
  maxMisses: number;
  /** Capture-time gap after which an unseen track is dropped. */
  maxGapMs: number;
  /** Votes kept per track. */
  voteWindow: number;
  /** Agreeing votes needed to settle or change a track's identity. */
  voteMin: number;
  /** How long a settled identity must hold before it becomes the principal (no expected subject). */
  principalStableMs: number;
  /** Cosine to an unknown principal's reference at which a face is still that person. */
  samePersonSim: number;
}

export const DEFAULT_TRACKER_CONFIG: TrackerConfig = Object.freeze({
  iouMin: 0.2,
  sameFaceSim: 0.3,
  reacquireSim: 0.5,
  maxMisses: 10,
  maxGapMs: 5000,
  voteWindow: 5,
  voteMin: 2,
  principalStableMs: 2000,
  samePersonSim: 0.45,
});

export interface TrackerInput {
  seq: number;
  captureMs: number;
  faces: ObservedFace[];
  expected: { subjectId: string; name: string } | null;
}

export interface TrackerStep {
  state: TrackerState;
  faces: TrackedFace[];
  principal: PrincipalView;
}

export function initialTrackerState(): TrackerState {
  return { nextTrack: 0, tracks: [], principal: null };
}

/**
 * Advances one stream by one frame. Pure and deterministic: the caller stores the returned
 * state (plain JSON) and hands it back with the next frame; frames arrive in seq order.
 */
/**
 * Tracks a frame captured at `captureMs` may continue. A track unseen for too long in
 * capture time is stale however few frames were sampled meanwhile (stream paused, frames
 * shed): whoever shows up now starts afresh.
 */
export function liveTracks(prev: TrackerState, captureMs: number, cfg: Pick<TrackerConfig, 'maxGapMs'>): TrackState[] {
  return prev.tracks.filter((t) => captureMs - t.lastMs <= cfg.maxGapMs);
}

export function stepTracker(prev: TrackerState, input: TrackerInput, cfg: TrackerConfig): TrackerStep {
  const live = liveTracks(prev, input.captureMs, cfg);
  const assigned = associate(live, input.faces, cfg);

  let nextTrack = prev.nextTrack;
  const updated = new Map<number, TrackState>();
  const created: TrackState[] = [];
  const seen = input.faces.map((face, fi): { track: TrackState; previous: TrackState | undefined } => {
    const ti = assigned[fi] ?? -1;
    const previous = ti >= 0 ? live[ti] : undefined;
    if (previous) {
      const track = continueTrack(previous, face, input, cfg);
      updated.set(ti, track);
      return { track, previous };
    }
    const track = createTrack(`t${nextTrack++}`, face, input, cfg);
    created.push(track);
    return { track, previous: undefined };
  });

  const kept = live
    .map((t, ti) => updated.get(ti) ?? missTrack(t))
    .filter((t) => t.misses <= cfg.maxMisses);
  const tracks = [...kept, ...created];

  // Visible tracks in creation order, so "the first stable track" is the longest-known one.
  const visibleIds = new Set(seen.map((s) => s.track.id));
  const visible = tracks.filter((t) => visibleIds.has(t.id));
  const principal = nextPrincipal(prev.principal, input.expected, visible, input.captureMs, cfg);
  const view = principalView(principal, visible, cfg);
  const principalTrack = view.status === 'present' ? (view.principal?.trackId ?? null) : null;

  const faces: TrackedFace[] = input.faces.map((face, fi) => {
    const { track, previous } = seen[fi]!;
    return { ...face, trackId: track.id, identity: track.identity, isPrincipal: track.id === principalTrack, previous };
  });
  return { state: { nextTrack, tracks, principal: view.principal }, faces, principal: view };
}
