import { iou, type Box } from '@lookout/contracts';
import { associate } from './association.js';
import { thumbChange } from './crop-thumb.js';
import { liveTracks, type TrackerConfig } from './tracker.js';
import type { ObservedFace, TrackerState, TrackState } from './types.js';

/** When a face that continues a track is worth the embedding model again. */
export interface EmbedPolicy {
  /** A track's face is embedded again at least this often (capture time); 0 = every frame. */
  refreshMs: number;
  /** Overlap with the track's last box below this: the face may have changed. */
  changeIou: number;
  /** Box centre moved, or side changed, by more than this share of the side: may have changed. */
  changeJump: number;
  /** Crop thumbnail changed by more than this since the track's last embedding (crop-thumb.ts). */
  changeThumb: number;
}

export const DEFAULT_EMBED_POLICY: EmbedPolicy = Object.freeze({ refreshMs: 1000, changeIou: 0.5, changeJump: 0.25, changeThumb: 0.3 });

/**
 * Why a face is embedded: no track continues it by position (`new_track`), its track has
 * no settled, uncontested identity yet (`settling`: votes come only from embedded faces),
 * a cue says the face may not be the one the track embedded last (`changed`), or the
 * track's embedding is older than the refresh interval (`refresh`).
 */
export type EmbedReason = 'new_track' | 'settling' | 'changed' | 'refresh';
export const EMBED_REASONS: readonly EmbedReason[] = ['new_track', 'settling', 'changed', 'refresh'];

export interface EmbedRequest {
  face: number;
  reason: EmbedReason;
}

/** Centre shift or size change of a box against another, as a share of the older one's side. */
export function boxJump(from: Box, to: Box): number {
  const side = (b: Box) => Math.sqrt(Math.max(1e-6, (b[2] - b[0]) * (b[3] - b[1])));
  const s = side(from);
  const shift = Math.hypot((to[0] + to[2] - from[0] - from[2]) / 2, (to[1] + to[3] - from[1] - from[3]) / 2) / s;
  return Math.max(shift, Math.abs(side(to) - s) / s);
}

function unsettled(track: TrackState): boolean {
  if (!track.embedding || !track.identity) return true;
  // The newest vote disagreeing with the identity: a change is under way, or one bad frame
  // needs out-voting; either way the next votes decide, so they must be cast.
  const last = track.votes[track.votes.length - 1];
  return last !== undefined && last.s !== track.identity.subjectId;
}

function mayHaveChanged(track: TrackState, face: ObservedFace, p: EmbedPolicy): boolean {
  if (track.misses > 0) return true; // it was gone for a while: whoever came back needs a look
  const box = face.face.box;
  if (iou(track.box, box) < p.changeIou || boxJump(track.box, box) > p.changeJump) return true;
  if (!track.thumb || !face.thumb) return true;
  return thumbChange(track.thumb, face.thumb) > p.changeThumb;
}

/** Whether one face, continuing `track` (undefined: none), needs embedding, and why. */
export function embedReason(track: TrackState | undefined, face: ObservedFace, captureMs: number, p: EmbedPolicy): EmbedReason | null {
  if (!track) return 'new_track';
  if (unsettled(track)) return 'settling';
  if (mayHaveChanged(track, face, p)) return 'changed';
  const embedMs = track.embedMs ?? null;
  if (embedMs === null || captureMs - embedMs >= p.refreshMs) return 'refresh';
  return null;
}

/**
 * The faces of a frame still to embed, given the embeddings it already has. Pure in the
 * stream's state and the frame, so every replica (and every retry after a lost
 * compare-and-set, against the state that won) makes the same decision.
 *
 * Faces are paired with tracks exactly as the tracker will pair them with what is known
 * now. An embedding may move a face to another track (appearance vetoes position), which
 * can leave another face without the track it was planned on: call again with the new
 * embeddings until nothing is left to embed (at most once per face). Faces without a
 * usable crop (no thumb) cannot be embedded and are never asked for.
 */
export function planEmbeddings(tracker: TrackerState, faces: readonly ObservedFace[], captureMs: number, cfg: TrackerConfig, p: EmbedPolicy): EmbedRequest[] {
  const live = liveTracks(tracker, captureMs, cfg);
  const assigned = associate(live, faces, cfg);
  const out: EmbedRequest[] = [];
  faces.forEach((face, i) => {
    if (face.embedding || !face.thumb) return;
    const reason = embedReason(live[assigned[i] ?? -1], face, captureMs, p);
    if (reason) out.push({ face: i, reason });
  });
  return out;
}
