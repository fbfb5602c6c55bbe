import type { AnalysedFace, AnalysisMessage } from '@lookout/contracts';

/**
 * "Who is in view" of one stream, made from the one analysis result a page shows: the
 * overlay's boxes and labels, the caption under the picture and the Publish page's metrics
 * are all read from this, on the Publish page and on the dashboard alike, so the same
 * result can never be described two ways (names from one field, faces counted once, one
 * rule for when a result is too old to show).
 */

/**
 * reid sends `identity: null` both before a track settles and for people not in the gallery.
 * `anonymous`: a page that is never told identities (the Publish page: a publisher's socket
 * gets no gallery names, docs/gateway.md "Roles") says "Face", not "Unknown person".
 */
export type FaceKind = 'known' | 'unknown' | 'anonymous';

export interface ViewFace {
  /** Stable across results of the stream: the track id, else the face's index. */
  key: string;
  name: string;
  /** "Barack Obama 0.62 · t3": the label over the face. */
  caption: string;
  kind: FaceKind;
  similarity: number | null;
  /** The stream's principal person. */
  principal: boolean;
  face: AnalysedFace;
}

export interface InView {
  /** The result shown; undefined when there is none recent enough. */
  msg?: AnalysisMessage;
  faces: ViewFace[];
  /** Whom a single-person readout describes: the principal if in view, else the first face. */
  main?: ViewFace;
  /** The caption under the picture. */
  summary: string;
  /** Matched to the frame on screen (true), or the latest result with its age. */
  synced: boolean;
  /** Frame time (or now) − the result's capture time, ms. */
  skewMs: number;
}

/** A result chosen to show (AnalysisBuffer's `Picked`; no import, so tests load this alone). */
export interface Picked {
  msg: AnalysisMessage;
  skewMs: number;
  synced: boolean;
}

export const UNKNOWN_NAME = 'Unknown person';
export const ANONYMOUS_NAME = 'Face';
export const NO_ANALYSIS: InView = { faces: [], summary: 'No recent analysis', synced: false, skewMs: 0 };

export function faceKind(f: AnalysedFace): FaceKind {
  return f.identity ? 'known' : 'unknown';
}

export function faceName(f: AnalysedFace): string {
  return f.identity ? f.identity.name : UNKNOWN_NAME;
}

export function faceCaption(f: AnalysedFace): string {
  const sim = f.identity ? ` ${f.identity.similarity.toFixed(2)}` : '';
  const track = f.trackId ? ` · ${f.trackId}` : '';
  return `${faceName(f)}${sim}${track}`;
}

export function viewFace(f: AnalysedFace, i: number, names = true): ViewFace {
  if (!names) {
    const track = f.trackId ? ` · ${f.trackId}` : '';
    return { key: f.trackId ?? `f${i}`, name: ANONYMOUS_NAME, caption: `${ANONYMOUS_NAME}${track}`, kind: 'anonymous', similarity: null, principal: f.principal === true, face: f };
  }
  return { key: f.trackId ?? `f${i}`, name: faceName(f), caption: faceCaption(f), kind: faceKind(f), similarity: f.identity?.similarity ?? null, principal: f.principal === true, face: f };
}

/** The view of a picked result (none: NO_ANALYSIS — not "nobody", which a result must say). */
export function inView(picked: Picked | undefined, names = true): InView {
  if (!picked) return NO_ANALYSIS;
  const faces = picked.msg.faces.map((f, i) => viewFace(f, i, names));
  const main = faces.find((f) => f.principal) ?? faces[0];
  const summary = faces.length === 0 ? 'Nobody in view' : `In view: ${faces.map((f) => f.name).join(', ')}`;
  return { msg: picked.msg, faces, ...(main ? { main } : {}), summary, synced: picked.synced, skewMs: picked.skewMs };
}

/** Two views say the same (what a page re-renders on): same result, same sync mode. */
export function sameView(a: InView, b: InView): boolean {
  return a.msg?.stream === b.msg?.stream && a.msg?.seq === b.msg?.seq && a.msg?.captureMs === b.msg?.captureMs && a.synced === b.synced;
}
