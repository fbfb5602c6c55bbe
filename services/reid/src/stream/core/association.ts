import { iou } from '@lookout/contracts';
import { decodeVector, dot } from '../../embedding/vector-codec.js';
import type { ObservedFace, TrackState } from './types.js';

export interface AssociationParams {
  iouMin: number;
  sameFaceSim: number;
  reacquireSim: number;
}

interface Candidate {
  track: number;
  face: number;
  score: number;
}

/**
 * Cosine of a track's reference and a face's embedding, or null when either is missing
 * (or they come from different models: comparing vectors of different length means nothing).
 */
export function similarity(reference: Float32Array | null, embedding: Float32Array | null): number | null {
  if (!reference || !embedding || reference.length !== embedding.length) return null;
  return dot(reference, embedding);
}

/**
 * Score of continuing a track with a face, or null when the pair is not allowed.
 * Appearance vetoes position: two people at the same spot (a hard cut, someone leaning in)
 * must not share a track, so a clearly different embedding rules the pair out at any IoU.
 * A strong embedding alone may rejoin a track whose box no longer overlaps (the face moved
 * while it was lost, or the frame rate is too low for boxes to overlap).
 */
export function pairScore(track: TrackState, reference: Float32Array | null, face: ObservedFace, p: AssociationParams): number | null {
  const overlap = iou(track.box, face.face.box);
  const sim = similarity(reference, face.embedding);
  if (sim !== null && sim < p.sameFaceSim) return null;
  const byPosition = overlap >= p.iouMin;
  const byAppearance = sim !== null && sim >= p.reacquireSim;
  if (!byPosition && !byAppearance) return null;
  // Without an embedding the face is only as good as the weakest acceptable appearance,
  // so a face that positively looks like the track wins a close call on position.
  return overlap + (sim ?? p.sameFaceSim);
}

/**
 * Assigns faces to tracks, one face per track, globally greedy by best score (ties broken
 * by track then face order so the result is deterministic). Returns, per face, the index
 * of the track it continues, or -1 for a face that starts a new track.
 */
export function associate(tracks: readonly TrackState[], faces: readonly ObservedFace[], p: AssociationParams): number[] {
  const references = tracks.map((t) => (t.embedding ? decodeVector(t.embedding) : null));
  const candidates: Candidate[] = [];
  tracks.forEach((track, ti) => {
    faces.forEach((face, fi) => {
      const score = pairScore(track, references[ti] ?? null, face, p);
      if (score !== null) candidates.push({ track: ti, face: fi, score });
    });
  });
  candidates.sort((a, b) => b.score - a.score || a.track - b.track || a.face - b.face);

  const assigned = faces.map(() => -1);
  const taken = new Set<number>();
  for (const c of candidates) {
    if (taken.has(c.track) || assigned[c.face] !== -1) continue;
    assigned[c.face] = c.track;
    taken.add(c.track);
  }
  return assigned;
}
