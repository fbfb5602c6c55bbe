import type { Person } from '@lookout/contracts';
import { decodeVector } from '../../embedding/vector-codec.js';
import { similarity } from './association.js';
import type { PrincipalState, PrincipalView, TrackState } from './types.js';

export interface PrincipalParams {
  principalStableMs: number;
  samePersonSim: number;
}

export type Expected = { subjectId: string; name: string } | null;

/** How a visible track relates to the principal; `score` ranks several candidates. */
interface Relation {
  kind: 'principal' | 'other' | 'unsettled';
  score: number;
}

function fromExpected(prev: PrincipalState | null, expected: NonNullable<Expected>, captureMs: number): PrincipalState {
  if (prev?.expected && prev.subjectId === expected.subjectId && prev.name === expected.name) return prev;
  const same = prev?.subjectId === expected.subjectId;
  return {
    subjectId: expected.subjectId,
    name: expected.name,
    embedding: null,
    expected: true,
    sinceMs: same && prev ? prev.sinceMs : captureMs,
    trackId: same && prev ? prev.trackId : null,
  };
}

/** The first visible track whose settled identity has held long enough to be trusted. */
function learn(visible: readonly TrackState[], captureMs: number, p: PrincipalParams): PrincipalState | null {
  for (const t of visible) {
    const id = t.identity;
    if (!id || t.identitySinceMs === null || captureMs - t.identitySinceMs < p.principalStableMs) continue;
    // An unknown person can only be recognised later by appearance, so it needs a reference.
    if (id.subjectId === null && !t.embedding) continue;
    return {
      subjectId: id.subjectId,
      name: id.name,
      embedding: id.subjectId === null ? t.embedding : null,
      expected: false,
      sinceMs: captureMs,
      trackId: t.id,
    };
  }
  return null;
}

/**
 * The session's expected subject always wins; otherwise a principal, once learnt, stays:
 * replacing it automatically would hide exactly the swap that identity_changed reports.
 */
export function nextPrincipal(
  prev: PrincipalState | null,
  expected: Expected,
  visible: readonly TrackState[],
  captureMs: number,
  p: PrincipalParams,
): PrincipalState | null {
  if (expected) return fromExpected(prev, expected, captureMs);
  return prev ?? learn(visible, captureMs, p);
}

function relation(t: TrackState, principal: PrincipalState, reference: Float32Array | null, p: PrincipalParams): Relation {
  const id = t.identity;
  if (principal.subjectId !== null) {
    if (!id) return { kind: 'unsettled', score: 0 };
    return { kind: id.subjectId === principal.subjectId ? 'principal' : 'other', score: id.similarity };
  }
  const sim = similarity(reference, t.embedding ? decodeVector(t.embedding) : null) ?? 0;
  // The principal's own track is trusted even when its mean has drifted from the reference.
  if (t.id === principal.trackId) return { kind: 'principal', score: Math.max(sim, 1) };
  if (!id) return { kind: 'unsettled', score: 0 };
  if (id.subjectId !== null) return { kind: 'other', score: sim };
  return { kind: sim >= p.samePersonSim ? 'principal' : 'other', score: sim };
}

function personOf(t: TrackState): Person {
  const id = t.identity;
  return { subjectId: id?.subjectId ?? null, name: id?.name ?? null, similarity: id?.similarity ?? 0, trackId: t.id };
}

/**
 * Where the principal is in this frame. Only settled identities can make it 'replaced':
 * a face still gathering votes is not yet evidence that somebody else took the seat.
 */
export function principalView(principal: PrincipalState | null, visible: readonly TrackState[], p: PrincipalParams): PrincipalView {
  if (!principal) return { status: 'unset', principal: null };
  const reference = principal.embedding ? decodeVector(principal.embedding) : null;
  const related = visible.map((t) => ({ t, r: relation(t, principal, reference, p) }));
  let best: { t: TrackState; r: Relation } | null = null;
  for (const c of related) {
    if (c.r.kind !== 'principal') continue;
    if (!best || c.r.score > best.r.score) best = c;
  }
  if (best) return { status: 'present', principal: { ...principal, trackId: best.t.id } };
  const other = related.find((c) => c.r.kind === 'other');
  if (other) return { status: 'replaced', principal, replacement: personOf(other.t) };
  return { status: 'absent', principal };
}
