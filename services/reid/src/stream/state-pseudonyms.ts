import type { Person } from '@lookout/contracts';
import type { StreamState } from './core/advance.js';
import type { SecondPerson } from './core/metrics.js';
import type { Detail, KindState } from './core/rules/evaluate.js';
import type { Identity, PrincipalState, TrackState, Vote } from './core/types.js';

/**
 * Who a subject is, by its gallery ref: the random per-subject key kept only inside the
 * subject's gallery record (gallery-record.ts). The gallery index answers both ways.
 */
export interface SubjectRefs {
  refOf(subjectId: string): string | undefined;
  byRef(ref: string): { subjectId: string; name: string } | undefined;
}

/**
 * The stream state names people by ref, never by subject id or name. The state is
 * rewritten many times a second and JetStream only marks a replaced revision deleted (its
 * bytes stay in the block file until the block goes), so whatever the state holds cannot
 * be erased later; a ref is meaningless once the subject's record, the only link from ref to
 * person, is erased. Reading maps refs back through the index: a ref that no longer
 * resolves (the subject was deleted) reads as "a person not in the gallery".
 *
 * `pseudonymise` runs just before a write, `identify` just after a read; everything in
 * between works with subject ids as before.
 */
export function pseudonymise(state: StreamState, refs: SubjectRefs): StreamState {
  return mapState(state, (subjectId) => {
    const ref = subjectId === null ? undefined : refs.refOf(subjectId);
    return ref === undefined ? null : { id: ref, name: null };
  });
}

export function identify(state: StreamState, refs: SubjectRefs): StreamState {
  return mapState(state, (ref) => {
    const s = ref === null ? undefined : refs.byRef(ref);
    return s ? { id: s.subjectId, name: s.name } : null;
  });
}

/** Maps one subject reference (id or ref); null: nobody known (anonymous). */
type MapId = (id: string | null) => { id: string; name: string | null } | null;

function mapState(state: StreamState, f: MapId): StreamState {
  const tracker = state.tracker;
  return {
    ...state,
    tracker: { ...tracker, tracks: tracker.tracks.map((t) => mapTrack(t, f)), principal: tracker.principal ? mapPrincipal(tracker.principal, f) : null },
    rules: { ...state.rules, kinds: Object.fromEntries(Object.entries(state.rules.kinds).map(([k, s]) => [k, s ? mapKind(s, f) : s])) as StreamState['rules']['kinds'] },
    metrics: state.metrics?.people ? { ...state.metrics, people: mapPeople(state.metrics.people, f) } : state.metrics,
  };
}

/** The second's people (attendance) name their track's identity like a vote does. */
function mapPeople(people: Record<string, SecondPerson>, f: MapId): Record<string, SecondPerson> {
  return Object.fromEntries(
    Object.entries(people).map(([track, p]) => {
      if (p.s === null) return [track, p];
      const m = f(p.s);
      return [track, { f: p.f, s: m?.id ?? null, n: m?.name ?? null }];
    }),
  );
}

function mapTrack(t: TrackState, f: MapId): TrackState {
  return { ...t, votes: t.votes.map((v) => mapVote(v, f)), identity: t.identity ? mapIdentity(t.identity, f) : null };
}

function mapVote(v: Vote, f: MapId): Vote {
  if (v.s === null) return v;
  const m = f(v.s);
  return { s: m?.id ?? null, n: m?.name ?? null, sim: v.sim };
}

function mapIdentity(i: Identity, f: MapId): Identity {
  if (i.subjectId === null) return i;
  const m = f(i.subjectId);
  return { subjectId: m?.id ?? null, name: m?.name ?? null, similarity: i.similarity };
}

/**
 * A principal whose subject is gone is forgotten (learnt again from the stream): a
 * gallery principal without a subject would have nothing to be compared with.
 */
function mapPrincipal(p: PrincipalState, f: MapId): PrincipalState | null {
  if (p.subjectId === null) return p;
  const m = f(p.subjectId);
  return m ? { ...p, subjectId: m.id, name: m.name } : null;
}

function mapPerson(p: Person | undefined, f: MapId): Person | undefined {
  if (!p || p.subjectId === null) return p;
  const m = f(p.subjectId);
  return { ...p, subjectId: m?.id ?? null, name: m?.name ?? null };
}

/** Rule keys name the replacement person as `s:<subject>` (conditions.ts). */
function mapKey(key: string | null, f: MapId): string | null {
  if (key === null || !key.startsWith('s:')) return key;
  const m = f(key.slice(2));
  return m ? `s:${m.id}` : 's:';
}

function mapKind(k: KindState, f: MapId): KindState {
  const detail = (d: Detail): Detail => {
    const out = { ...d };
    if (d.from) out.from = mapPerson(d.from, f)!;
    if (d.to) out.to = mapPerson(d.to, f)!;
    return out;
  };
  return {
    run: k.run ? { ...k.run, key: mapKey(k.run.key, f), detail: detail(k.run.detail) } : null,
    episode: k.episode ? { ...k.episode, key: mapKey(k.episode.key, f), detail: detail(k.episode.detail) } : null,
    // A windowed rule's evidence (track and scores, nobody named) goes through as it is:
    // dropping it here would restart the spoof window at every write.
    ...(k.window ? { window: k.window } : {}),
  };
}
