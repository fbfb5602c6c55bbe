import type { Box, DetectedFace, FaceScores, Person, TextInFrame } from '@lookout/contracts';

/**
 * Types shared by the per-stream logic (tracker, principal, rules, scores, metrics). All
 * of it is pure: a step takes the previous state and one frame and returns the next state.
 * States are plain JSON because they live in the KV entry of the stream; vectors in them
 * are base64 Float32 (vector-codec.ts) to keep the entry small.
 */

/** Best gallery subject for one face (after negative examples). */
export interface GalleryMatch {
  subjectId: string;
  name: string;
  similarity: number;
  /** similarity ≥ the accept threshold and ahead of the next subject by the margin. */
  accepted: boolean;
}

/** One face of a frame before tracking: detector output plus embedding and gallery search. */
export interface ObservedFace {
  face: Omit<DetectedFace, 'crop'>;
  /** Unit-length embedding of the aligned crop; null when the frame had no crop for it. */
  embedding: Float32Array | null;
  /** Best subject, accepted or not; null without an embedding or with an empty gallery. */
  match: GalleryMatch | null;
  /**
   * Tiny grey picture of the aligned crop (service-kit crop-thumb.ts), present when the face has a
   * usable crop: what the embed decision compares with the track's last embedded look.
   */
  thumb?: string | null;
}

/** Who a track is: a gallery subject, or (subjectId null) a person not in the gallery. */
export interface Identity {
  subjectId: string | null;
  name: string | null;
  similarity: number;
}

export interface Vote {
  /** Accepted subject of that frame, or null (no accepted match). */
  s: string | null;
  n: string | null;
  sim: number;
}

export interface TrackState {
  id: string;
  box: Box;
  firstMs: number;
  lastMs: number;
  lastSeq: number;
  hits: number;
  /** Frames since the track was last matched to a face. */
  misses: number;
  /** Running mean of the track's embeddings, re-normalised; base64 Float32; null until one was seen. */
  embedding: string | null;
  /** Most recent per-frame gallery votes, newest last. */
  votes: Vote[];
  /** Smoothed identity; null until enough votes agree. */
  identity: Identity | null;
  identitySinceMs: number | null;
  /** Last head pose and box centre/size, for posture stability. */
  pose: { yaw: number; pitch: number; roll: number } | null;
  /**
   * Capture time of the track's last embedded face, and that face's crop thumbnail: what
   * decides whether the next face needs the embedding model (embed-plan.ts). In the state,
   * not in a replica, so every replica decides the same. Absent in states written before.
   */
  embedMs?: number | null;
  thumb?: string | null;
}

export interface PrincipalState {
  subjectId: string | null;
  name: string | null;
  /** Reference embedding (base64 Float32) when the principal is not a gallery subject. */
  embedding: string | null;
  /** Set from the session's expected subject rather than learnt from the stream. */
  expected: boolean;
  sinceMs: number;
  /** Track currently believed to be the principal. */
  trackId: string | null;
}

export interface TrackerState {
  nextTrack: number;
  tracks: TrackState[];
  principal: PrincipalState | null;
}

export type PrincipalStatus = 'unset' | 'present' | 'absent' | 'replaced';

export interface TrackedFace extends ObservedFace {
  trackId: string;
  identity: Identity | null;
  isPrincipal: boolean;
  /** The track before this frame updated it (undefined for a new track). */
  previous: TrackState | undefined;
}

export interface PrincipalView {
  status: PrincipalStatus;
  principal: PrincipalState | null;
  /** When status is 'replaced': who is there instead. */
  replacement?: Person;
}

/** What the rules see of one frame. */
export interface FrameFacts {
  seq: number;
  captureMs: number;
  faces: Array<{
    trackId: string;
    identity: Identity | null;
    isPrincipal: boolean;
    face: Omit<DetectedFace, 'crop'>;
    scores: FaceScores;
  }>;
  principal: PrincipalView;
  /** No subject enrolled: unknown_person makes no sense then. */
  galleryEmpty: boolean;
  text?: TextInFrame;
}
