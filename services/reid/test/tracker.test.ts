import type { Box } from '@lookout/contracts';
import { dot, normalize } from '../src/embedding/vector-codec.js';
import { DEFAULT_TRACKER_CONFIG, initialTrackerState, stepTracker, type TrackerConfig, type TrackerInput } from '../src/stream/core/tracker.js';
import type { GalleryMatch, ObservedFace, TrackerState } from '../src/stream/core/types.js';
import { seededRandom } from '@lookout/testkit';

// ---- synthetic embeddings ------------------------------------------------------------

const DIM = 512;


const rand = seededRandom(42);

function gauss(): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function randomUnit(): Float32Array {
  return normalize(Float32Array.from({ length: DIM }, gauss));
}

/** Another shot of the same person: noise of norm 0.6 gives cos ≈ 0.85 to the base. */
function shotOf(base: Float32Array, noise = 0.6): Float32Array {
  const n = randomUnit();
  return normalize(base.map((v, i) => v + noise * n[i]!));
}

// ---- frames -----------------------------------------------------------------------------

function box(x: number, y = 100, size = 100): Box {
  return [x, y, x + size, y + size];
}

function accepted(subjectId: string, similarity = 0.7): GalleryMatch {
  return { subjectId, name: subjectId.toUpperCase(), similarity, accepted: true };
}

function rejected(subjectId: string, similarity = 0.25): GalleryMatch {
  return { subjectId, name: subjectId.toUpperCase(), similarity, accepted: false };
}

function face(b: Box, embedding: Float32Array | null, match: GalleryMatch | null = null): ObservedFace {
  return { face: { box: b, score: 0.9, pose: { yaw: 0, pitch: 0, roll: 0, lookingAtCamera: true } }, embedding, match };
}

const PERIOD_MS = 200;

/**
 * Drives one stream frame by frame, passing the state through JSON between steps exactly as
 * the KV entry does, so every test also checks that the state survives serialisation.
 */
class Stream {
  state: TrackerState = initialTrackerState();
  seq = 0;
  ms = 1_000_000;
  constructor(
    readonly cfg: TrackerConfig = DEFAULT_TRACKER_CONFIG,
    readonly roundTrip = true,
  ) {}

  step(faces: ObservedFace[], expected: TrackerInput['expected'] = null, gapMs = PERIOD_MS) {
    this.seq += 1;
    this.ms += gapMs;
    const out = stepTracker(this.state, { seq: this.seq, captureMs: this.ms, faces, expected }, this.cfg);
    this.state = this.roundTrip ? (JSON.parse(JSON.stringify(out.state)) as TrackerState) : out.state;
    return out;
  }

  /** Runs n frames built by `make(i)`, returning the last result. */
  run(n: number, make: (i: number) => ObservedFace[], expected: TrackerInput['expected'] = null) {
    let last = this.step(make(0), expected);
    for (let i = 1; i < n; i++) last = this.step(make(i), expected);
    return last;
  }
}

const alice = randomUnit();
const bob = randomUnit();
const carol = randomUnit();

describe('synthetic embeddings', () => {
  it('look like a face model: same person ≈ 0.7–0.9, different people ≈ 0', () => {
    const sims = Array.from({ length: 20 }, () => dot(shotOf(alice), shotOf(alice)));
    expect(Math.min(...sims)).toBeGreaterThan(0.6);
    expect(Math.abs(dot(alice, bob))).toBeLessThan(0.2);
  });
});

describe('association', () => {
  it('keeps one track id for a face moving across the frame', () => {
    const s = new Stream();
    const ids = Array.from({ length: 20 }, (_, i) => s.step([face(box(10 + i * 15), shotOf(alice))]).faces[0]!.trackId);
    expect(new Set(ids)).toEqual(new Set(['t0']));
    expect(s.state.tracks).toHaveLength(1);
    expect(s.state.tracks[0]!.hits).toBe(20);
  });

  it('associates faces without embeddings by position only, and they cast no vote', () => {
    const s = new Stream();
    s.step([face(box(100), shotOf(alice), accepted('alice'))]);
    const out = s.run(5, (i) => [face(box(100 + i * 10), null)]);
    expect(out.faces[0]!.trackId).toBe('t0');
    expect(s.state.tracks[0]!.votes).toHaveLength(1);
    expect(out.faces[0]!.identity).toBeNull();
  });

  it('starts a new track on a hard cut to another person at the same place', () => {
    const s = new Stream();
    s.run(5, () => [face(box(100), shotOf(alice))]);
    const cut = s.step([face(box(100), shotOf(bob))]);
    expect(cut.faces[0]!.trackId).toBe('t1');
    expect(cut.faces[0]!.previous).toBeUndefined();
    expect(s.step([face(box(102), shotOf(bob))]).faces[0]!.trackId).toBe('t1');
  });

  it('follows two faces that cross each other', () => {
    const s = new Stream();
    const seen = { alice: new Set<string>(), bob: new Set<string>() };
    for (let i = 0; i <= 10; i++) {
      // Alice moves right, Bob left; in the middle frames their boxes nearly coincide.
      const out = s.step([face(box(300 - i * 30), shotOf(bob)), face(box(i * 30), shotOf(alice))]);
      seen.bob.add(out.faces[0]!.trackId);
      seen.alice.add(out.faces[1]!.trackId);
    }
    expect(seen.alice.size).toBe(1);
    expect(seen.bob.size).toBe(1);
    expect(seen.alice).not.toEqual(seen.bob);
  });

  it('reacquires a briefly lost face by appearance even where boxes no longer overlap', () => {
    const s = new Stream();
    s.run(5, () => [face(box(50), shotOf(alice))]);
    s.run(3, () => []);
    expect(s.step([face(box(400), shotOf(alice))]).faces[0]!.trackId).toBe('t0');
    // Somebody else far away is not the lost track.
    s.run(3, () => []);
    expect(s.step([face(box(50), shotOf(bob))]).faces[0]!.trackId).toBe('t1');
  });

  it('drops a track after maxMisses frames unseen', () => {
    const s = new Stream();
    s.run(3, () => [face(box(50), shotOf(alice))]);
    s.run(DEFAULT_TRACKER_CONFIG.maxMisses, () => []);
    expect(s.state.tracks.map((t) => [t.id, t.misses])).toEqual([['t0', 10]]);
    s.step([]);
    expect(s.state.tracks).toEqual([]);
    expect(s.step([face(box(50), shotOf(alice))]).faces[0]!.trackId).toBe('t1');
  });

  it('drops a track unseen for longer than maxGapMs of capture time', () => {
    const s = new Stream();
    s.run(3, () => [face(box(50), shotOf(alice))]);
    const out = s.step([face(box(50), shotOf(alice))], null, DEFAULT_TRACKER_CONFIG.maxGapMs + 1);
    expect(out.faces[0]!.trackId).toBe('t1');
    expect(s.state.tracks.map((t) => t.id)).toEqual(['t1']);
  });
});

describe('identity votes', () => {
  it('settles a name after voteMin agreeing frames', () => {
    const s = new Stream();
    expect(s.step([face(box(100), shotOf(alice), accepted('alice', 0.6))]).faces[0]!.identity).toBeNull();
    const out = s.step([face(box(100), shotOf(alice), accepted('alice', 0.8))]);
    expect(out.faces[0]!.identity).toEqual({ subjectId: 'alice', name: 'ALICE', similarity: expect.closeTo(0.7, 6) });
  });

  it('does not flip a settled name on one wrong match or one unaccepted frame', () => {
    const s = new Stream();
    s.run(5, () => [face(box(100), shotOf(alice), accepted('alice'))]);
    expect(s.step([face(box(100), shotOf(alice), accepted('bob', 0.9))]).faces[0]!.identity?.subjectId).toBe('alice');
    expect(s.step([face(box(100), shotOf(alice), rejected('alice'))]).faces[0]!.identity?.subjectId).toBe('alice');
    expect(s.step([face(box(100), shotOf(alice), accepted('alice'))]).faces[0]!.identity?.subjectId).toBe('alice');
  });

  it('settles a real change on a settled track once it out-votes the old name (⌊window/2⌋+1 frames)', () => {
    const s = new Stream();
    s.run(5, () => [face(box(100), shotOf(alice), accepted('alice'))]);
    const since = s.state.tracks[0]!.identitySinceMs;
    const ids = Array.from({ length: 3 }, () => s.step([face(box(100), shotOf(alice), accepted('carol'))]).faces[0]!.identity?.subjectId);
    expect(ids).toEqual(['alice', 'alice', 'carol']);
    expect(s.state.tracks[0]!.identitySinceMs).toBeGreaterThan(since!);
  });

  it('settles a real change within voteMin frames when the window is 2·voteMin−1', () => {
    const s = new Stream({ ...DEFAULT_TRACKER_CONFIG, voteWindow: 3 });
    s.run(5, () => [face(box(100), shotOf(alice), accepted('alice'))]);
    const one = s.step([face(box(100), shotOf(alice), accepted('carol'))]);
    const two = s.step([face(box(100), shotOf(alice), accepted('carol'))]);
    expect([one.faces[0]!.identity?.subjectId, two.faces[0]!.identity?.subjectId]).toEqual(['alice', 'carol']);
  });

  it('settles "not in the gallery" as an identity with a null subject', () => {
    const s = new Stream();
    s.step([face(box(100), shotOf(carol), rejected('alice', 0.2))]);
    const out = s.step([face(box(100), shotOf(carol), rejected('alice', 0.3))]);
    expect(out.faces[0]!.identity).toEqual({ subjectId: null, name: null, similarity: expect.closeTo(0.3, 6) });
  });
});

describe('principal', () => {
  it('is learnt from a known subject held for principalStableMs', () => {
    const s = new Stream();
    const frame = () => [face(box(100), shotOf(alice), accepted('alice'))];
    // Identity settles on frame 2; stable for 2000 ms at 200 ms per frame means frame 12.
    const before = s.run(11, frame);
    expect(before.principal).toEqual({ status: 'unset', principal: null });
    expect(before.faces[0]!.isPrincipal).toBe(false);
    const after = s.step(frame());
    expect(after.principal.status).toBe('present');
    expect(after.principal.principal).toMatchObject({ subjectId: 'alice', name: 'ALICE', expected: false, trackId: 't0', embedding: null });
    expect(after.faces[0]!.isPrincipal).toBe(true);
  });

  it('is set from the expected subject on the first frame and follows a change of it', () => {
    const s = new Stream();
    const expected = { subjectId: 'alice', name: 'Alice' };
    const first = s.step([], expected);
    expect(first.principal).toEqual({
      status: 'absent',
      principal: { subjectId: 'alice', name: 'Alice', embedding: null, expected: true, sinceMs: s.ms, trackId: null },
    });
    expect(s.step([face(box(100), shotOf(alice), accepted('alice'))], expected).principal.status).toBe('absent');
    const present = s.step([face(box(100), shotOf(alice), accepted('alice'))], expected);
    expect(present.principal.status).toBe('present');
    expect(present.faces[0]!.isPrincipal).toBe(true);

    const changed = s.step([face(box(100), shotOf(alice), accepted('alice'))], { subjectId: 'bob', name: 'Bob' });
    expect(changed.principal.principal).toMatchObject({ subjectId: 'bob', expected: true });
    expect(changed.principal.status).toBe('replaced');
    expect(changed.principal.replacement).toMatchObject({ subjectId: 'alice', trackId: 't0' });
  });

  it('reports present / absent / replaced for a known principal', () => {
    const s = new Stream();
    s.run(12, () => [face(box(100), shotOf(alice), accepted('alice'))]);
    expect(s.state.principal?.subjectId).toBe('alice');
    expect(s.step([]).principal.status).toBe('absent');

    // A newcomer is only evidence once its identity has settled.
    expect(s.step([face(box(300), shotOf(bob), accepted('bob'))]).principal.status).toBe('absent');
    const replaced = s.step([face(box(300), shotOf(bob), accepted('bob'))]);
    expect(replaced.principal.status).toBe('replaced');
    expect(replaced.principal.replacement).toEqual({ subjectId: 'bob', name: 'BOB', similarity: expect.closeTo(0.7, 6), trackId: 't1' });
    expect(replaced.principal.principal?.subjectId).toBe('alice');
    expect(replaced.faces[0]!.isPrincipal).toBe(false);

    // An unknown person is a different person too.
    s.run(12, () => []);
    s.run(2, () => [face(box(300), shotOf(carol), null)]);
    expect(s.step([face(box(300), shotOf(carol), null)]).principal.replacement).toMatchObject({ subjectId: null });

    // Alice back, next to the stranger: she is present and is the one flagged.
    const back = s.run(2, () => [face(box(300), shotOf(carol), null), face(box(0), shotOf(alice), accepted('alice'))]);
    expect(back.principal.status).toBe('present');
    expect(back.faces.map((f) => f.isPrincipal)).toEqual([false, true]);
    expect(back.principal.principal?.trackId).toBe(back.faces[1]!.trackId);
  });

  it('learns an unknown principal by appearance and tells the same person from another', () => {
    const s = new Stream();
    const learnt = s.run(12, () => [face(box(100), shotOf(carol), null)]);
    expect(learnt.principal.status).toBe('present');
    expect(learnt.principal.principal).toMatchObject({ subjectId: null, name: null, expected: false, trackId: 't0' });
    expect(typeof learnt.principal.principal?.embedding).toBe('string');

    expect(s.step([]).principal.status).toBe('absent');
    // A different stranger in the same seat (after the old track is gone).
    s.run(11, () => []);
    expect(s.step([face(box(100), shotOf(bob), null)]).principal.status).toBe('absent');
    const replaced = s.step([face(box(100), shotOf(bob), null)]);
    expect(replaced.principal.status).toBe('replaced');
    expect(replaced.principal.replacement).toEqual({ subjectId: null, name: null, similarity: 0, trackId: 't1' });

    // The same stranger returns on a new track: present once that track has settled.
    s.run(12, () => []);
    expect(s.step([face(box(100), shotOf(carol), null)]).principal.status).toBe('absent');
    const back = s.step([face(box(100), shotOf(carol), null)]);
    expect(back.principal.status).toBe('present');
    expect(back.principal.principal?.trackId).toBe('t2');
    expect(back.faces[0]!.isPrincipal).toBe(true);
  });

  it('accepts the unknown principal on its own track straight after a short loss', () => {
    const s = new Stream();
    s.run(12, () => [face(box(100), shotOf(carol), null)]);
    s.run(2, () => []);
    const back = s.step([face(box(110), shotOf(carol), null)]);
    expect(back.faces[0]!.trackId).toBe('t0');
    expect(back.principal.status).toBe('present');
  });

  it('is not replaced automatically once learnt', () => {
    const s = new Stream();
    s.run(12, () => [face(box(100), shotOf(alice), accepted('alice'))]);
    s.run(12, () => []);
    const out = s.run(30, () => [face(box(100), shotOf(bob), accepted('bob'))]);
    expect(out.principal.status).toBe('replaced');
    expect(out.principal.principal?.subjectId).toBe('alice');
  });
});

describe('state', () => {
  /** A scenario touching every branch: crossing, cut, losses, unknowns, principal changes. */
  function scenario(): Array<{ faces: ObservedFace[]; expected: TrackerInput['expected']; gapMs: number }> {
    const frames: Array<{ faces: ObservedFace[]; expected: TrackerInput['expected']; gapMs: number }> = [];
    const add = (n: number, make: (i: number) => ObservedFace[], expected: TrackerInput['expected'] = null, gapMs = PERIOD_MS) => {
      for (let i = 0; i < n; i++) frames.push({ faces: make(i), expected, gapMs });
    };
    add(14, (i) => [face(box(i * 10), shotOf(alice), accepted('alice')), face(box(300 - i * 10), shotOf(carol), null)]);
    add(3, () => [face(box(150), null)]);
    add(4, () => []);
    add(5, (i) => [face(box(150), shotOf(bob), i === 2 ? accepted('alice') : accepted('bob'))]);
    add(3, () => [face(box(150), shotOf(alice), accepted('alice'))], null, 6000);
    add(4, () => [face(box(150), shotOf(alice), accepted('alice'))], { subjectId: 'bob', name: 'Bob' });
    return frames;
  }

  it('gives identical results whether or not the state goes through JSON between steps', () => {
    const frames = scenario();
    const plain = new Stream(DEFAULT_TRACKER_CONFIG, false);
    const json = new Stream(DEFAULT_TRACKER_CONFIG, true);
    for (const f of frames) {
      const a = plain.step(f.faces, f.expected, f.gapMs);
      const b = json.step(f.faces, f.expected, f.gapMs);
      expect(b).toEqual(a);
      expect(JSON.parse(JSON.stringify(a.state))).toEqual(a.state);
    }
    expect(json.state).toEqual(plain.state);
  });

  it('never mutates the state it is given', () => {
    const s = new Stream(DEFAULT_TRACKER_CONFIG, false);
    for (const f of scenario()) {
      const before = JSON.stringify(s.state);
      const prev = s.state;
      s.step(f.faces, f.expected, f.gapMs);
      expect(JSON.stringify(prev)).toBe(before);
    }
  });
});
