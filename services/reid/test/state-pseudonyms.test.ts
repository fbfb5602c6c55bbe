import { initialStreamState, type StreamState } from '../src/stream/core/advance.js';
import { identify, pseudonymise, type SubjectRefs } from '../src/stream/state-pseudonyms.js';

/** A gallery of two subjects; `gone` deletes one (its ref then resolves to nobody). */
function gallery(): SubjectRefs & { gone(id: string): void } {
  const subjects = new Map([
    ['joe_biden', { ref: 'R1aaaaaaaaaaaaaaaaaaaa', name: 'Joe Biden' }],
    ['obama', { ref: 'R2bbbbbbbbbbbbbbbbbbbb', name: 'Barack Obama' }],
  ]);
  return {
    refOf: (id) => subjects.get(id)?.ref,
    byRef: (ref) => {
      const hit = [...subjects].find(([, s]) => s.ref === ref);
      return hit && { subjectId: hit[0], name: hit[1].name };
    },
    gone: (id) => subjects.delete(id),
  };
}

/** A state that names Joe Biden everywhere a state can name someone. */
function naming(): StreamState {
  const s = initialStreamState('sess');
  const biden = { subjectId: 'joe_biden', name: 'Joe Biden' };
  s.tracker.tracks.push({
    id: 't1',
    box: [0, 0, 10, 10],
    firstMs: 0,
    lastMs: 0,
    lastSeq: 0,
    hits: 3,
    misses: 0,
    embedding: null,
    votes: [{ s: 'joe_biden', n: 'Joe Biden', sim: 0.8 }, { s: null, n: null, sim: 0.2 }],
    identity: { ...biden, similarity: 0.8 },
    identitySinceMs: 0,
    pose: null,
  });
  s.tracker.principal = { ...biden, embedding: null, expected: false, sinceMs: 0, trackId: 't1' };
  const detail = { from: { subjectId: 'obama', name: 'Barack Obama' }, to: { ...biden, trackId: 't1' }, trackId: 't1' };
  s.rules.kinds.identity_changed = {
    run: { count: 2, key: 's:joe_biden', startMs: 0, startSeq: 0, lastMs: 0, lastSeq: 1, detail },
    episode: { id: 'e1', severity: 'critical', key: 's:joe_biden', startMs: 0, startSeq: 0, lastMs: 0, lastSeq: 1, falseFrames: 0, detail },
  };
  // A windowed rule's evidence names nobody and must survive the round trip (else the spoof window restarts at every write).
  s.rules.kinds.spoof_suspected = { run: null, episode: null, window: { key: 't:t1', samples: [{ ms: 0, seq: 0, low: true, value: 0.2 }] } };
  s.metrics = {
    second: 0,
    frames: 2,
    facesSum: 3,
    principalPresentFrames: 2,
    scoredFrames: 2,
    scoreSums: { eyeContact: 0, engagement: 0, positivity: 0, postureStability: 0, confidence: 0 },
    expressions: {},
    latencySum: 0,
    latencyCount: 0,
    people: { t1: { f: 2, s: 'joe_biden', n: 'Joe Biden' }, t2: { f: 1, s: null, n: null } },
  };
  return s;
}

describe('stream state names people by gallery ref only (issue 17: delete is erasure)', () => {
  it('writes no subject id or name, and reads back the same state', () => {
    const refs = gallery();
    const stored = JSON.stringify(pseudonymise(naming(), refs));
    for (const s of ['joe_biden', 'Joe Biden', 'obama', 'Barack Obama']) expect(stored).not.toContain(s);
    expect(stored).toContain('R1aaaaaaaaaaaaaaaaaaaa');
    expect(identify(JSON.parse(stored) as StreamState, refs)).toEqual(naming());
  });

  it('reads a deleted subject as a person not in the gallery, and forgets a deleted principal', () => {
    const refs = gallery();
    const stored = JSON.parse(JSON.stringify(pseudonymise(naming(), refs))) as StreamState;
    refs.gone('joe_biden');
    const read = identify(stored, refs);
    const text = JSON.stringify(read);
    expect(text).not.toContain('R1aaaaaaaaaaaaaaaaaaaa');
    expect(read.tracker.tracks[0]!.identity).toEqual({ subjectId: null, name: null, similarity: 0.8 });
    expect(read.tracker.tracks[0]!.votes[0]).toEqual({ s: null, n: null, sim: 0.8 });
    expect(read.tracker.principal).toBeNull();
    expect(read.rules.kinds.identity_changed?.episode?.detail.to).toEqual({ subjectId: null, name: null, trackId: 't1' });
    expect(read.rules.kinds.identity_changed?.episode?.detail.from).toEqual({ subjectId: 'obama', name: 'Barack Obama' });
    expect(read.rules.kinds.identity_changed?.run?.key).toBe('s:');
    // The second's attendance reads the deleted subject's track as a person not identified.
    expect(read.metrics?.people).toEqual({ t1: { f: 2, s: null, n: null }, t2: { f: 1, s: null, n: null } });
  });

  it('writes a subject the index no longer knows as nobody', () => {
    const refs = gallery();
    refs.gone('joe_biden');
    const stored = JSON.stringify(pseudonymise(naming(), refs));
    expect(stored).not.toContain('joe_biden');
    expect(stored).not.toContain('Joe Biden');
  });
});
