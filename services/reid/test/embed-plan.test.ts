import type { Box } from '@lookout/contracts';
import { normalize } from '../src/embedding/vector-codec.js';
import { cropThumb } from '@lookout/service-kit';
import { thumbChange } from '../src/stream/core/crop-thumb.js';
import { boxJump, DEFAULT_EMBED_POLICY, embedReason, planEmbeddings, type EmbedPolicy, type EmbedReason } from '../src/stream/core/embed-plan.js';
import { DEFAULT_TRACKER_CONFIG, initialTrackerState, stepTracker } from '../src/stream/core/tracker.js';
import type { GalleryMatch, ObservedFace, TrackerState } from '../src/stream/core/types.js';
import { seededRandom } from '@lookout/testkit';

// ---- synthetic people: an embedding and a crop look each ----------------------------------

const rand = seededRandom(7);

/** A 112×112 RGB crop of 14×14 blocks of random grey: one "face" pattern per person. */
function pattern(): Uint8Array {
  const blocks = Array.from({ length: 64 }, () => Math.floor(rand() * 200) + 20);
  const rgb = new Uint8Array(112 * 112 * 3);
  for (let i = 0; i < 112 * 112; i++) rgb.fill(blocks[Math.floor(i / 112 / 14) * 8 + Math.floor((i % 112) / 14)]!, i * 3, i * 3 + 3);
  return rgb;
}

/** The same look a little noisier, brighter or darker: another frame of the same person. */
function noisy(rgb: Uint8Array, brightness: number): string {
  return cropThumb(rgb.map((v) => Math.max(0, Math.min(255, v + brightness + Math.round((rand() - 0.5) * 10)))), 112);
}
const shots = new Map<string, string[]>();
let shotCount = 0;
/** One of a few prepared noisy shots (making one per frame would be most of the test's time). */
function shot(rgb: Uint8Array, brightness = 0): string {
  const key = `${rgb[0]}.${rgb[3 * 500]}.${rgb[3 * 9000]}.${brightness}`;
  let list = shots.get(key);
  if (!list) shots.set(key, (list = Array.from({ length: 3 }, () => noisy(rgb, brightness))));
  return list[shotCount++ % list.length]!;
}

interface Person {
  id: string;
  rgb: Uint8Array;
  embedding: Float32Array;
}
const person = (id: string): Person => ({ id, rgb: pattern(), embedding: normalize(Float32Array.from({ length: 64 }, () => rand() - 0.5)) });
const alice = person('alice');
const bob = person('bob');

const box = (x: number, size = 100): Box => [x, 100, x + size, 100 + size];

// ---- a stream driven the way the analyzer drives it: plan, embed what is asked, step -------

class Stream {
  state: TrackerState = initialTrackerState();
  seq = 0;
  ms = 1_000_000;
  readonly embedded: EmbedReason[][] = [];
  constructor(readonly policy: EmbedPolicy = DEFAULT_EMBED_POLICY) {}

  /** One frame of `people` at `boxes`; returns the reasons faces were embedded, and the track ids. */
  step(faces: Array<{ who: Person; at: Box; brightness?: number; crop?: boolean }>, gapMs = 200) {
    this.seq += 1;
    this.ms += gapMs;
    const observed: ObservedFace[] = faces.map((f) => ({ face: { box: f.at, score: 0.9 }, embedding: null, match: null, thumb: f.crop === false ? null : shot(f.who.rgb, f.brightness) }));
    const reasons: EmbedReason[] = [];
    for (;;) {
      const plan = planEmbeddings(this.state, observed, this.ms, DEFAULT_TRACKER_CONFIG, this.policy);
      if (plan.length === 0) break;
      for (const r of plan) {
        const who = faces[r.face]!.who;
        const match: GalleryMatch = { subjectId: who.id, name: who.id, similarity: 0.8, accepted: true };
        observed[r.face] = { ...observed[r.face]!, embedding: who.embedding, match };
        reasons.push(r.reason);
      }
    }
    const out = stepTracker(this.state, { seq: this.seq, captureMs: this.ms, faces: observed, expected: null }, DEFAULT_TRACKER_CONFIG);
    // Through JSON, as the KV entry carries it between replicas.
    this.state = JSON.parse(JSON.stringify(out.state)) as TrackerState;
    this.embedded.push(reasons);
    return { reasons, tracks: out.faces.map((f) => f.trackId), identities: out.faces.map((f) => f.identity?.subjectId ?? null) };
  }
}

describe('crop thumbnails', () => {
  it('tell the same look (brighter or darker too) from another', () => {
    const a = shot(alice.rgb);
    expect(thumbChange(a, a)).toBe(0);
    expect(thumbChange(a, shot(alice.rgb))).toBeLessThan(0.1);
    expect(thumbChange(a, shot(alice.rgb, 30))).toBeLessThan(0.1);
    expect(thumbChange(a, shot(bob.rgb))).toBeGreaterThan(DEFAULT_EMBED_POLICY.changeThumb * 2);
    expect(thumbChange(a, cropThumb(alice.rgb, 112, 8))).toBe(Infinity);
  });

  it('box jump is the centre shift or size change as a share of the side', () => {
    expect(boxJump(box(100), box(100))).toBe(0);
    expect(boxJump(box(100), box(130))).toBeCloseTo(0.3);
    expect(boxJump(box(100, 100), box(100, 150))).toBeCloseTo(0.5); // centre moved 0.35, side grew 0.5
  });
});

describe('which faces are embedded', () => {
  it('a new face: embedded until its identity settles, then about once per refresh interval', () => {
    const s = new Stream();
    expect(s.step([{ who: alice, at: box(100) }]).reasons).toEqual(['new_track']);
    expect(s.step([{ who: alice, at: box(102) }]).reasons).toEqual(['settling']);
    const settled = s.step([{ who: alice, at: box(104) }]);
    expect(settled.reasons).toEqual([]);
    expect(settled.identities).toEqual(['alice']);
    // 5 fps for 10 s: one refresh a second, the track and its name kept between.
    for (let i = 0; i < 50; i++) expect(s.step([{ who: alice, at: box(104 + (i % 3)) }]).identities).toEqual(['alice']);
    const all = s.embedded.flat();
    expect(all.filter((r) => r === 'refresh')).toHaveLength(10);
    expect(all).toHaveLength(12);
    expect(new Set(s.state.tracks.map((t) => t.id))).toEqual(new Set(['t0']));
  });

  it('a hard cut to another person at the same place: embedded at once, and a new track', () => {
    const s = new Stream();
    for (let i = 0; i < 5; i++) s.step([{ who: alice, at: box(100) }]);
    const cut = s.step([{ who: bob, at: box(100) }]);
    expect(cut.reasons).toEqual(['changed']);
    expect(cut.tracks).toEqual(['t1']);
    // Still settling; whether the old track (missed once: 'changed') or the new one
    // ('settling') is nearer by position, the face is embedded and stays on the new track.
    expect(s.step([{ who: bob, at: box(101) }])).toMatchObject({ reasons: [expect.any(String)], tracks: ['t1'] });
    expect(s.step([{ who: bob, at: box(101) }])).toMatchObject({ reasons: [], identities: ['bob'] });
  });

  it('a box that jumps or stops overlapping, a face back after a miss, a lighting change that is not a new look', () => {
    const s = new Stream();
    for (let i = 0; i < 3; i++) s.step([{ who: alice, at: box(100) }]);
    expect(s.step([{ who: alice, at: box(130) }]).reasons).toEqual(['changed']); // jump 0.3 > 0.25
    expect(s.step([{ who: alice, at: box(130, 140) }]).reasons).toEqual(['changed']); // grew 40%
    expect(s.step([{ who: alice, at: box(130, 140) }, { who: bob, at: box(400) }]).reasons).toEqual(['new_track']);
    s.step([{ who: bob, at: box(400) }]); // alice missed once, bob settles
    expect(s.step([{ who: alice, at: box(130, 140) }, { who: bob, at: box(400) }]).reasons).toEqual(['changed']);
    expect(s.step([{ who: alice, at: box(130, 140), brightness: 40 }, { who: bob, at: box(401) }]).reasons).toEqual([]);
  });

  it('the newest vote disagreeing with the identity keeps the track embedding until the votes agree', () => {
    const s = new Stream();
    for (let i = 0; i < 3; i++) s.step([{ who: alice, at: box(100) }]);
    const track = s.state.tracks[0]!;
    s.state.tracks[0] = { ...track, votes: [...track.votes, { s: null, n: null, sim: 0.4 }] };
    expect(s.step([{ who: alice, at: box(100) }]).reasons).toEqual(['settling']);
    expect(s.step([{ who: alice, at: box(100) }]).reasons).toEqual([]);
  });

  it('a face without a usable crop is never asked for; refreshMs 0 embeds every face of every frame', () => {
    const s = new Stream();
    expect(s.step([{ who: alice, at: box(100), crop: false }]).reasons).toEqual([]);
    const every = new Stream({ ...DEFAULT_EMBED_POLICY, refreshMs: 0 });
    for (let i = 0; i < 6; i++) expect(every.step([{ who: alice, at: box(100) }]).reasons).toHaveLength(1);
  });

  it('is decided by the state alone: a retry against the state another replica wrote decides again', () => {
    const s = new Stream();
    for (let i = 0; i < 3; i++) s.step([{ who: alice, at: box(100) }]);
    const read = JSON.parse(JSON.stringify(s.state)) as TrackerState;
    const face: ObservedFace = { face: { box: box(100), score: 0.9 }, embedding: null, match: null, thumb: shot(alice.rgb) };
    const t = read.tracks[0]!;
    // Two replicas holding the same state make the same call …
    expect(embedReason(t, face, t.lastMs + 1000, DEFAULT_EMBED_POLICY)).toBe('refresh');
    expect(planEmbeddings(read, [face], t.lastMs + 1000, DEFAULT_TRACKER_CONFIG, DEFAULT_EMBED_POLICY)).toEqual([{ face: 0, reason: 'refresh' }]);
    // … and once the other replica's frame refreshed the track, the loser's retry does not embed again.
    const won = { ...read, tracks: [{ ...t, embedMs: t.lastMs + 900, lastMs: t.lastMs + 900 }] };
    expect(planEmbeddings(won, [face], t.lastMs + 1000, DEFAULT_TRACKER_CONFIG, DEFAULT_EMBED_POLICY)).toEqual([]);
  });
});
