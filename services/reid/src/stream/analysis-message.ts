import type { AnalysedFace, AnalysisMessage, FacesMessage } from '@lookout/contracts';
import type { FrameOutcome } from './core/advance.js';
import type { ObservedFace } from './core/types.js';

/**
 * The merged per-frame result. With a committed outcome, faces carry track ids, smoothed
 * identities and scores; a late frame (or one that lost every state race) carries only
 * what that frame alone says: its accepted gallery matches. Aligned crops stay in reid.
 */
export function toAnalysis(msg: FacesMessage, observed: ObservedFace[], outcome: FrameOutcome | undefined, sessionId: string | null, reidMs: number): AnalysisMessage {
  const base = {
    room: msg.room,
    stream: msg.stream,
    seq: msg.seq,
    captureMs: msg.captureMs,
    width: msg.width,
    height: msg.height,
    ...(msg.peer !== undefined ? { peer: msg.peer } : {}),
    ...(msg.text ? { text: msg.text } : {}),
    timings: { ...msg.timings, reid: reidMs },
    ...(sessionId ? { sessionId } : {}),
  };
  if (!outcome) return { ...base, faces: observed.map((o) => ({ ...o.face, identity: o.match?.accepted ? { subjectId: o.match.subjectId, name: o.match.name, similarity: o.match.similarity } : null })) };
  const faces: AnalysedFace[] = outcome.faces.map((f) => ({
    ...f.face,
    trackId: f.trackId,
    principal: f.isPrincipal,
    scores: f.scores,
    identity: f.identity?.subjectId ? { subjectId: f.identity.subjectId, name: f.identity.name ?? f.identity.subjectId, similarity: f.identity.similarity } : null,
  }));
  const p = outcome.principal;
  const principal = p.principal
    ? { subjectId: p.principal.subjectId, name: p.principal.name, expected: p.principal.expected, status: p.status === 'unset' ? ('absent' as const) : p.status }
    : undefined;
  return { ...base, faces, ...(principal ? { principal } : {}) };
}
