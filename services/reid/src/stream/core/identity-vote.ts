import type { Identity, ObservedFace, Vote } from './types.js';

/**
 * What one frame says about who a face is. A face without an embedding says nothing (its
 * match is null for lack of a crop, not because the person is unknown); with an embedding,
 * anything short of an accepted match is a vote for "a person not in the gallery".
 */
export function voteOf(face: ObservedFace): Vote | null {
  if (!face.embedding) return null;
  const m = face.match;
  if (!m) return { s: null, n: null, sim: 0 };
  if (!m.accepted) return { s: null, n: null, sim: m.similarity };
  return { s: m.subjectId, n: m.name, sim: m.similarity };
}

/** Appends a vote and keeps only the newest `window`. */
export function pushVote(votes: readonly Vote[], vote: Vote | null, window: number): Vote[] {
  const next = vote ? [...votes, vote] : [...votes];
  return next.slice(Math.max(0, next.length - Math.max(1, window)));
}

function identityOf(group: readonly Vote[]): Identity {
  const last = group[group.length - 1]!;
  if (last.s === null) {
    // For an unknown person the closest (rejected) gallery similarity is what is worth showing.
    const best = group.reduce((m, v) => Math.max(m, v.sim), 0);
    return { subjectId: null, name: null, similarity: best };
  }
  const mean = group.reduce((sum, v) => sum + v.sim, 0) / group.length;
  return { subjectId: last.s, name: last.n, similarity: mean };
}

/**
 * The identity the votes support: the subject (or "not in the gallery") holding at least
 * `voteMin` votes and strictly more than any other. Without such a winner the current
 * identity stands, which is what keeps a single bad frame from flipping a settled name:
 * a challenger must out-vote the incumbent inside the window, not merely appear in it.
 */
export function settleIdentity(votes: readonly Vote[], current: Identity | null, voteMin: number): Identity | null {
  const groups = new Map<string | null, Vote[]>();
  for (const v of votes) {
    const g = groups.get(v.s);
    if (g) g.push(v);
    else groups.set(v.s, [v]);
  }
  let best: Vote[] | null = null;
  let tied = false;
  for (const g of groups.values()) {
    if (!best || g.length > best.length) {
      best = g;
      tied = false;
    } else if (g.length === best.length) {
      tied = true;
    }
  }
  if (!best || tied || best.length < voteMin) return current;
  return identityOf(best);
}

export function sameIdentity(a: Identity | null, b: Identity | null): boolean {
  if (!a || !b) return a === b;
  return a.subjectId === b.subjectId;
}
