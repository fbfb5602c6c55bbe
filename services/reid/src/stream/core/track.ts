import type { Box } from '@lookout/contracts';
import { decodeVector, encodeVector, normalize } from '../../embedding/vector-codec.js';
import { pushVote, sameIdentity, settleIdentity, voteOf } from './identity-vote.js';
import type { ObservedFace, TrackState } from './types.js';

/**
 * How many past frames the mean embedding is worth at most. Capping it keeps the reference
 * able to follow slow drift (lighting, glasses on) while one odd frame (blur, occlusion) can
 * still move it by no more than 1/(cap+1).
 */
const EMBEDDING_MEMORY = 20;

export interface TrackParams {
  voteWindow: number;
  voteMin: number;
}

export interface Frame {
  seq: number;
  captureMs: number;
}

function poseOf(face: ObservedFace, previous: TrackState['pose']): TrackState['pose'] {
  const p = face.face.pose;
  return p ? { yaw: p.yaw, pitch: p.pitch, roll: p.roll } : previous;
}

/** Running mean of the track's embeddings, re-normalised, encoded for the JSON state. */
export function blendEmbedding(previous: string | null, weight: number, embedding: Float32Array | null): string | null {
  if (!embedding) return previous;
  if (!previous) return encodeVector(normalize(Float32Array.from(embedding)));
  const ref = decodeVector(previous);
  if (ref.length !== embedding.length) return encodeVector(normalize(Float32Array.from(embedding)));
  const w = Math.min(Math.max(weight, 1), EMBEDDING_MEMORY);
  const out = new Float32Array(ref.length);
  for (let i = 0; i < ref.length; i++) out[i] = ref[i]! * w + embedding[i]!;
  return encodeVector(normalize(out));
}

/** When and how the track last looked when embedded: moves on only with an embedded face. */
function embedMark(track: TrackState | null, face: ObservedFace, frame: Frame): Pick<TrackState, 'embedMs' | 'thumb'> {
  if (face.embedding) return { embedMs: frame.captureMs, thumb: face.thumb ?? null };
  return { embedMs: track?.embedMs ?? null, thumb: track?.thumb ?? null };
}

/** Applies the face's vote and re-derives the smoothed identity. */
function withVote(track: TrackState, face: ObservedFace, frame: Frame, p: TrackParams): TrackState {
  const votes = pushVote(track.votes, voteOf(face), p.voteWindow);
  const identity = settleIdentity(votes, track.identity, p.voteMin);
  const changed = !sameIdentity(identity, track.identity);
  return { ...track, votes, identity, identitySinceMs: changed ? frame.captureMs : track.identitySinceMs };
}

export function createTrack(id: string, face: ObservedFace, frame: Frame, p: TrackParams): TrackState {
  const fresh: TrackState = {
    id,
    box: [...face.face.box] as Box,
    firstMs: frame.captureMs,
    lastMs: frame.captureMs,
    lastSeq: frame.seq,
    hits: 1,
    misses: 0,
    embedding: blendEmbedding(null, 0, face.embedding),
    votes: [],
    identity: null,
    identitySinceMs: null,
    pose: poseOf(face, null),
    ...embedMark(null, face, frame),
  };
  return withVote(fresh, face, frame, p);
}

export function continueTrack(track: TrackState, face: ObservedFace, frame: Frame, p: TrackParams): TrackState {
  const moved: TrackState = {
    ...track,
    box: [...face.face.box] as Box,
    lastMs: frame.captureMs,
    lastSeq: frame.seq,
    hits: track.hits + 1,
    misses: 0,
    embedding: blendEmbedding(track.embedding, track.hits, face.embedding),
    pose: poseOf(face, track.pose),
    ...embedMark(track, face, frame),
  };
  return withVote(moved, face, frame, p);
}

export function missTrack(track: TrackState): TrackState {
  return { ...track, misses: track.misses + 1 };
}
