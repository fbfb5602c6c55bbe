import type { PersonInView, RecognitionEvent, SessionAttendance, StreamMetricsEvent } from '@lookout/contracts';
import { byCodeUnits } from '@lookout/service-kit';

/**
 * Who was here, and when: the attendance of a session, from the `people` reid lists in
 * each second of metrics (the tracks in view, with their identity). Pure, like the rest
 * of the report.
 *
 * A track is one person's uninterrupted stay in view (reid's tracker). It counts as the
 * subject it was identified as in any of its seconds, or in a PASS recognition of it: a
 * track identified only after a few frames was that person from its first frame, not an
 * unknown who turned into them. A track never identified is one unknown person, however
 * many frames it lasted.
 */

/** Tracks seen in fewer frames than this are left out of the unknowns: a false detection is not a person. */
export const UNKNOWN_MIN_FRAMES = 3;
/** Unknown tracks listed one by one (all are counted). */
export const UNKNOWN_LISTED_MAX = 100;

interface TrackSeen {
  track: string;
  /** Seconds (since epoch) in view. */
  seconds: Set<number>;
  frames: number;
  /** Frames per subject the track was identified as in its seconds. */
  subjects: Map<string, { frames: number; name: string | null }>;
}

interface Span {
  firstSeenMs: number;
  lastSeenMs: number;
  secondsInView: number;
}

/** `seconds` are the session's merged seconds (report.ts's mergeSeconds). */
export function buildAttendance(seconds: readonly StreamMetricsEvent[], recognitions: readonly RecognitionEvent[]): SessionAttendance {
  const tracks = collectTracks(seconds);
  const named = recognizedTracks(recognitions);
  const people = new Map<string, { name: string | null; seconds: Set<number>; tracks: number }>();
  const unknown: TrackSeen[] = [];
  for (const t of tracks.values()) {
    const who = identityOf(t, named.get(t.track));
    if (!who) {
      if (t.frames >= UNKNOWN_MIN_FRAMES) unknown.push(t);
      continue;
    }
    const p = people.get(who.subjectId) ?? { name: who.name, seconds: new Set<number>(), tracks: 0 };
    p.name ??= who.name;
    for (const s of t.seconds) p.seconds.add(s);
    p.tracks += 1;
    people.set(who.subjectId, p);
  }
  const unknownSeconds = new Set(unknown.flatMap((t) => [...t.seconds]));
  const unknownList = unknown
    .map((t) => ({ track: t.track, ...span(t.seconds) }))
    .sort((a, b) => a.firstSeenMs - b.firstSeenMs || byCodeUnits(a.track, b.track));
  return {
    people: [...people]
      .map(([subjectId, p]) => ({ subjectId, name: p.name, ...span(p.seconds), tracks: p.tracks }))
      .sort((a, b) => a.firstSeenMs - b.firstSeenMs || byCodeUnits(a.subjectId, b.subjectId)),
    unknown: { tracks: unknown.length, secondsInView: unknownSeconds.size, list: unknownList.slice(0, UNKNOWN_LISTED_MAX) },
    truncatedSeconds: seconds.filter((m) => (m.peopleLeftOut ?? 0) > 0).length,
  };
}

function collectTracks(seconds: readonly StreamMetricsEvent[]): Map<string, TrackSeen> {
  const tracks = new Map<string, TrackSeen>();
  for (const m of seconds) {
    for (const p of m.people ?? []) {
      const t = tracks.get(p.track) ?? { track: p.track, seconds: new Set<number>(), frames: 0, subjects: new Map() };
      t.seconds.add(m.second);
      t.frames += p.frames;
      if (p.subjectId !== null) {
        const s = t.subjects.get(p.subjectId) ?? { frames: 0, name: null };
        s.frames += p.frames;
        s.name ??= p.name ?? null;
        t.subjects.set(p.subjectId, s);
      }
      tracks.set(p.track, t);
    }
  }
  return tracks;
}

/** The subject of each track with a PASS recognition (the latest one, should it have several). */
function recognizedTracks(recognitions: readonly RecognitionEvent[]): Map<string, { subjectId: string; name: string | null }> {
  const out = new Map<string, { subjectId: string; name: string | null }>();
  for (const r of [...recognitions].sort((a, b) => a.captureMs - b.captureMs)) {
    if (r.decision === 'PASS' && r.subjectId !== null) out.set(r.trackId, { subjectId: r.subjectId, name: r.name });
  }
  return out;
}

/**
 * Who a track was: the subject it was identified as in the most frames (a track's identity
 * rarely changes; when it does, the one it held longest), else its PASS recognition.
 */
function identityOf(t: TrackSeen, recognized: { subjectId: string; name: string | null } | undefined): { subjectId: string; name: string | null } | null {
  let best: [string, { frames: number; name: string | null }] | undefined;
  for (const entry of [...t.subjects].sort(([a], [b]) => byCodeUnits(a, b))) {
    if (!best || entry[1].frames > best[1].frames) best = entry;
  }
  if (best) return { subjectId: best[0], name: best[1].name ?? (recognized?.subjectId === best[0] ? recognized.name : null) };
  return recognized ?? null;
}

/** Per-second resolution: first seen is the start of the first second, last seen the end of the last. */
function span(seconds: Set<number>): Span {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of seconds) {
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  return { firstSeenMs: lo * 1000, lastSeenMs: (hi + 1) * 1000, secondsInView: seconds.size };
}

/**
 * The people of two parts of one second (a session change or a stream end flushed it
 * early, and the next frame continued it): frames add up per track, an identity wins over
 * none.
 */
export function combinePeople(a: PersonInView[] | undefined, b: PersonInView[] | undefined): PersonInView[] | undefined {
  if (!a) return b;
  if (!b) return a;
  const byTrack = new Map<string, PersonInView>();
  for (const p of [...a, ...b]) {
    const prev = byTrack.get(p.track);
    byTrack.set(
      p.track,
      prev
        ? { track: p.track, subjectId: p.subjectId ?? prev.subjectId, name: p.subjectId !== null ? (p.name ?? null) : (prev.name ?? null), frames: prev.frames + p.frames }
        : p,
    );
  }
  return [...byTrack.values()].sort((x, y) => y.frames - x.frames || byCodeUnits(x.track, y.track));
}
