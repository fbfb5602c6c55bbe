import { DEFAULT_RULES, resolveRules, type Person, type ResolvedRules, type RuleThresholds } from '@lookout/contracts';
import { closeAllEpisodes, evaluateRules, initialRulesState, type AlertTransition, type RulesState } from '../src/stream/core/rules/evaluate.js';
import type { FrameFacts, Identity, PrincipalView } from '../src/stream/core/types.js';

type FaceFacts = FrameFacts['faces'][number];
type DetectedPart = FaceFacts['face'];

const STREAM = { room: 'room1', stream: 'cam1' };
const OBAMA: Identity = { subjectId: 'obama', name: 'Barack Obama', similarity: 0.8 };
const PRESENT: PrincipalView = {
  status: 'present',
  principal: { subjectId: 'obama', name: 'Barack Obama', embedding: null, expected: true, sinceMs: 0, trackId: 't1' },
};
const ABSENT: PrincipalView = { ...PRESENT, status: 'absent' };
const replacedBy = (to: Person): PrincipalView => ({ ...PRESENT, status: 'replaced', replacement: to });

/** The principal, frontal, eyes open, engaged; `over` changes what a scenario is about. */
function face(over: Partial<Omit<FaceFacts, 'face'>> = {}, det: Partial<DetectedPart> = {}): FaceFacts {
  return {
    trackId: 't1',
    identity: OBAMA,
    isPrincipal: true,
    scores: { eyeContact: 90, engagement: 80, positivity: 50, postureStability: 95, confidence: 90 },
    ...over,
    face: {
      box: [100, 100, 200, 220],
      score: 0.9,
      pose: { yaw: 0, pitch: 0, roll: 0, lookingAtCamera: true },
      eyes: { leftOpen: 0.9, rightOpen: 0.9, bothClosed: false },
      ...det,
    },
  };
}
const other = (trackId: string): FaceFacts => face({ trackId, identity: null, isPrincipal: false });

/** Frames are 200 ms apart (5 fps) unless a scenario sets captureMs. */
function frame(seq: number, faces: FaceFacts[], extra: Partial<FrameFacts> = {}): FrameFacts {
  return { seq, captureMs: 1000 + seq * 200, faces, principal: faces.length ? PRESENT : ABSENT, galleryEmpty: false, ...extra };
}

type Emitted = AlertTransition & { at: number };

/**
 * Steps the rules over a sequence twice, once keeping the state in memory and once through
 * JSON (as the KV entry does), and checks both give the very same transitions and states.
 */
function drive(frames: FrameFacts[], rules: ResolvedRules | ResolvedRules[] = DEFAULT_RULES): { out: Emitted[]; state: RulesState } {
  let direct = initialRulesState();
  let stored = JSON.stringify(direct);
  const out: Emitted[] = [];
  const viaJson: Emitted[] = [];
  frames.forEach((f, i) => {
    const r = Array.isArray(rules) ? (rules[i] ?? DEFAULT_RULES) : rules;
    const a = evaluateRules(direct, f, r, STREAM);
    const b = evaluateRules(JSON.parse(stored) as RulesState, f, r, STREAM);
    expect(JSON.parse(JSON.stringify(a.state))).toStrictEqual(a.state);
    expect(b.state).toStrictEqual(a.state);
    out.push(...a.transitions.map((t) => ({ ...t, at: f.seq })));
    viaJson.push(...b.transitions.map((t) => ({ ...t, at: f.seq })));
    direct = a.state;
    stored = JSON.stringify(b.state);
  });
  expect(viaJson).toStrictEqual(out);
  expect(JSON.parse(JSON.stringify(out))).toStrictEqual(out);
  return { out, state: direct };
}

/** [emitted at seq, kind, state, startSeq, endSeq] */
const brief = (ts: Emitted[]) => ts.map((t) => [t.at, t.kind, t.state, t.startSeq, t.endSeq]);
const seqs = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const rulesWith = (t: RuleThresholds): ResolvedRules => resolveRules(t);

describe('no_face', () => {
  it('opens after `frames` empty frames from the first empty one and closes after closeFrames', () => {
    const frames = [frame(1, [face()]), ...seqs(2, 5).map((s) => frame(s, [])), ...seqs(6, 8).map((s) => frame(s, [face()]))];
    const { out } = drive(frames);
    expect(brief(out)).toEqual([
      [4, 'no_face', 'open', 2, undefined],
      [8, 'no_face', 'closed', 2, 5],
    ]);
    const [open, closed] = out;
    expect(open?.id).toBe('room1.cam1.no_face.2');
    expect(closed?.id).toBe(open?.id);
    expect(open).toMatchObject({ severity: 'warning', startMs: 1400, message: 'No face in view' });
    expect(closed).toMatchObject({ endMs: 2000 });
  });

  it('does not open one frame short of the threshold', () => {
    const { out } = drive([frame(1, []), frame(2, []), frame(3, [face()]), frame(4, []), frame(5, [])]);
    expect(out).toEqual([]);
  });

  it('keeps the episode through fewer than closeFrames false frames (hysteresis)', () => {
    const pattern = [0, 0, 0, 1, 1, 0, 1, 1, 1];
    const { out } = drive(pattern.map((n, i) => frame(i + 1, n ? [face()] : [])));
    expect(brief(out)).toEqual([
      [3, 'no_face', 'open', 1, undefined],
      [9, 'no_face', 'closed', 1, 6],
    ]);
  });

  it('uses the configured severity and thresholds', () => {
    const rules = rulesWith({ no_face: { severity: 'critical', frames: 1 }, closeFrames: 1 });
    const { out } = drive([frame(1, []), frame(2, [face()])], rules);
    expect(brief(out)).toEqual([
      [1, 'no_face', 'open', 1, undefined],
      [2, 'no_face', 'closed', 1, 1],
    ]);
    expect(out[0]?.severity).toBe('critical');
  });
});

describe('multiple_faces', () => {
  it('reports the largest count of the episode and survives a short dip', () => {
    const counts = [1, 2, 2, 1, 2, 2, 3, 2, 1, 2, 1, 1, 1];
    const frames = counts.map((n, i) => frame(i + 1, [face(), ...seqs(2, n).map((k) => other(`t${k}`))]));
    const { out } = drive(frames);
    expect(brief(out)).toEqual([
      [7, 'multiple_faces', 'open', 5, undefined],
      [13, 'multiple_faces', 'closed', 5, 10],
    ]);
    expect(out.map((t) => t.faces)).toEqual([3, 3]);
    expect(out[1]?.message).toBe('Multiple faces in view (3)');
    expect(out[1]?.id).toBe(out[0]?.id);
  });
});

describe('identity_changed', () => {
  const jolie: Person = { subjectId: 'jolie', name: 'Angelina Jolie', trackId: 't2' };
  const smith: Person = { subjectId: 'smith', name: 'Will Smith', trackId: 't3' };
  const as = (p: Person): FaceFacts => face({ trackId: p.trackId ?? 'tx', identity: { subjectId: p.subjectId, name: p.name, similarity: 0.7 }, isPrincipal: false });
  const replaced = (seq: number, p: Person) => frame(seq, [as(p)], { principal: replacedBy(p) });

  it('needs the same replacement for `frames` frames and names both people', () => {
    const frames = [frame(1, [face()]), replaced(2, jolie), replaced(3, smith), replaced(4, smith), frame(5, [face()]), frame(6, []), frame(7, [face()])];
    const { out } = drive(frames);
    expect(brief(out)).toEqual([
      [4, 'identity_changed', 'open', 3, undefined],
      [7, 'identity_changed', 'closed', 3, 4],
    ]);
    expect(out[0]).toMatchObject({
      id: 'room1.cam1.identity_changed.3',
      severity: 'critical',
      message: 'Identity changed: Barack Obama → Will Smith',
      from: { subjectId: 'obama', name: 'Barack Obama', trackId: 't1' },
      to: smith,
    });
    expect(out[1]).toMatchObject({ id: out[0]?.id, message: out[0]?.message, to: smith });
  });

  it('closes the episode of one replacement and opens another when the replacement changes', () => {
    const frames = [replaced(1, jolie), replaced(2, jolie), ...seqs(3, 5).map((s) => replaced(s, smith))];
    const { out } = drive(frames);
    expect(brief(out)).toEqual([
      [2, 'identity_changed', 'open', 1, undefined],
      [5, 'identity_changed', 'closed', 1, 2],
      [5, 'identity_changed', 'open', 3, undefined],
    ]);
    expect(out.map((t) => t.to?.name)).toEqual(['Angelina Jolie', 'Angelina Jolie', 'Will Smith']);
  });

  it('calls an unidentified replacement "an unknown person"', () => {
    const stranger: Person = { subjectId: null, name: null, trackId: 't9' };
    const f = (seq: number) => frame(seq, [face({ trackId: 't9', identity: null, isPrincipal: false })], { principal: replacedBy(stranger) });
    const { out } = drive([f(1), f(2)]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ message: 'Identity changed: Barack Obama → an unknown person', to: stranger, trackId: 't9' });
  });
});

describe('unknown_person', () => {
  const stranger = (seq: number, extra: Partial<FrameFacts> = {}) =>
    frame(seq, [face({ trackId: 't2', identity: { subjectId: null, name: null, similarity: 0.2 } })], { principal: { status: 'unset', principal: null }, ...extra });

  it('opens after `frames` frames of a settled unknown identity and closes when it is known', () => {
    const unsettled = frame(5, [face({ trackId: 't2', identity: null })], { principal: { status: 'unset', principal: null } });
    const frames = [...seqs(1, 4).map((s) => stranger(s)), unsettled, ...seqs(6, 10).map((s) => stranger(s)), ...seqs(11, 13).map((s) => frame(s, [face()]))];
    const { out } = drive(frames);
    expect(brief(out)).toEqual([
      [10, 'unknown_person', 'open', 6, undefined],
      [13, 'unknown_person', 'closed', 6, 10],
    ]);
    expect(out[0]).toMatchObject({ trackId: 't2', id: 'room1.cam1.unknown_person.6', message: 'An unknown person is in view' });
  });

  it('never fires with an empty gallery', () => {
    const { out } = drive(seqs(1, 10).map((s) => stranger(s, { galleryEmpty: true })));
    expect(out).toEqual([]);
  });
});

describe('looking_away', () => {
  const yaw = (seq: number, y: number, pitch = 0) => frame(seq, [face({}, { pose: { yaw: y, pitch, roll: 0, lookingAtCamera: false } })]);
  const noPose = (seq: number) => frame(seq, [face({}, { pose: undefined })]);

  it('reports the peak angle, and frames without pose neither count nor close', () => {
    const frames = [yaw(1, 40), yaw(2, 45), yaw(3, 50), yaw(4, -60), yaw(5, 35), noPose(6), noPose(7), noPose(8), yaw(9, 0), yaw(10, 0), yaw(11, 0)];
    const { out } = drive(frames);
    expect(brief(out)).toEqual([
      [5, 'looking_away', 'open', 1, undefined],
      [11, 'looking_away', 'closed', 1, 5],
    ]);
    expect(out[0]).toMatchObject({ value: -60, message: 'Looking away (yaw -60°)', severity: 'info' });
  });

  it('respects the limits (strictly above) and the frame count, on pitch too', () => {
    expect(drive(seqs(1, 10).map((s) => yaw(s, 30, 25))).out).toEqual([]);
    expect(drive([...seqs(1, 4).map((s) => yaw(s, 0, -26)), yaw(5, 0)]).out).toEqual([]);
    const { out } = drive(seqs(1, 5).map((s) => yaw(s, 10, -26)));
    expect(out[0]).toMatchObject({ kind: 'looking_away', value: -26, message: 'Looking away (pitch -26°)' });
  });

  it('does not count frames without pose towards opening', () => {
    const { out } = drive([yaw(1, 40), yaw(2, 40), noPose(3), noPose(4), yaw(5, 40), yaw(6, 40)]);
    expect(out).toEqual([]);
  });
});

describe('eyes_closed', () => {
  const eyes = (seq: number, closed: boolean | null) =>
    frame(seq, [face({}, { eyes: closed === null ? undefined : { leftOpen: closed ? 0.1 : 0.9, rightOpen: closed ? 0.1 : 0.9, bothClosed: closed } })]);

  it('opens once the eyes were closed for `ms` of capture time', () => {
    const frames = [...seqs(1, 6).map((s) => eyes(s, true)), ...seqs(7, 9).map((s) => eyes(s, false))];
    const { out } = drive(frames);
    expect(brief(out)).toEqual([
      [6, 'eyes_closed', 'open', 1, undefined],
      [9, 'eyes_closed', 'closed', 1, 6],
    ]);
    expect(out[0]).toMatchObject({ value: 1000, message: 'Eyes closed for 1.0 s', trackId: 't1' });
  });

  it('counts time, not frames: five frames within 800 ms do not open it, two frames 1 s apart do', () => {
    expect(drive(seqs(1, 5).map((s) => eyes(s, true))).out).toEqual([]);
    const slow = seqs(1, 2).map((s) => ({ ...eyes(s, true), captureMs: s * 1000 }));
    expect(brief(drive(slow).out)).toEqual([[2, 'eyes_closed', 'open', 1, undefined]]);
  });

  it('keeps timing through frames without an eyes result', () => {
    const { out } = drive([eyes(1, true), eyes(2, true), eyes(3, null), eyes(4, null), eyes(5, null), eyes(6, true)]);
    expect(brief(out)).toEqual([[6, 'eyes_closed', 'open', 1, undefined]]);
  });
});

describe('low_engagement', () => {
  const eng = (seq: number, engagement: number) => frame(seq, [face({ scores: { eyeContact: 50, engagement, positivity: 50, postureStability: 90, confidence: 90 } })]);

  it('opens below the threshold for `frames` frames and reports the lowest score', () => {
    const rules = rulesWith({ low_engagement: { frames: 3 } });
    const frames = [eng(1, 39.9), eng(2, 20), eng(3, 40), eng(4, 30), eng(5, 10), eng(6, 35), eng(7, 60), eng(8, 60), eng(9, 60)];
    const { out } = drive(frames, rules);
    expect(brief(out)).toEqual([
      [6, 'low_engagement', 'open', 4, undefined],
      [9, 'low_engagement', 'closed', 4, 6],
    ]);
    expect(out[1]).toMatchObject({ value: 10, message: 'Low engagement (10)' });
  });
});

describe('spoof_suspected (sustained evidence over a window, per track)', () => {
  /** A fresh liveness result once a second (the detector's cadence), frames 200 ms apart in between. */
  const at = (seq: number, score: number | null, trackId = 't1', ageMs = 0) =>
    frame(seq, [face({ trackId }, score === null ? {} : { liveness: { score, live: score >= 0.5, ageMs } })]);
  /** One fresh result per second for `scores` (5 frames each: 1 fresh, 4 stale repeats). */
  const seconds = (scores: number[], from = 1, trackId = 't1'): FrameFacts[] =>
    scores.flatMap((sc, i) => seqs(from + i * 5, from + i * 5 + 4).map((seq, k) => at(seq, sc, trackId, k * 200)));

  it('opens on sustained low scores (a photo held up), from the first low result, and closes when they stop', () => {
    const { out } = drive([...seconds(Array<number>(12).fill(0.1)), ...seconds(Array<number>(12).fill(0.9), 61)]);
    // 10 s window, ≥ 6 results spanning ≥ 8 s: the 9th result (t = 8 s, seq 41) opens it.
    expect(brief(out)).toEqual([
      [41, 'spoof_suspected', 'open', 1, undefined],
      // Good results close it once the window's share falls under 70% and closeFrames (3) such results followed.
      [expect.any(Number), 'spoof_suspected', 'closed', 1, 56],
    ]);
    expect(out[0]).toMatchObject({ severity: 'critical', value: 0.1, trackId: 't1', message: 'Possible spoof: liveness 0.10' });
  });

  it('is robust to a few good scores inside an attack: one episode, not split', () => {
    const scores = [0.1, 0.2, 0.9, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.1, 0.95, 0.1, 0.1, 0.1];
    const { out } = drive(seconds(scores));
    expect(out.filter((t) => t.state === 'open')).toHaveLength(1);
    expect(out.filter((t) => t.state === 'closed')).toHaveLength(0);
  });

  it('does not open on a short burst of low scores (6 s, as the fixture video\'s second person)', () => {
    expect(drive(seconds([0.9, 0.9, 0.9, 0.1, 0.05, 0.2, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9])).out).toEqual([]);
  });

  it('does not open on scattered low scores (under 70% of the window)', () => {
    expect(drive(seconds([0.1, 0.9, 0.1, 0.9, 0.1, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1])).out).toEqual([]);
  });

  it('judges each track on its own: a new person starts a new window', () => {
    // 5 s low on t1, then 5 s low on t2: 10 s of low scores, but no track held them 8 s.
    expect(drive([...seconds([0.1, 0.1, 0.1, 0.1, 0.1, 0.1]), ...seconds([0.1, 0.1, 0.1, 0.1, 0.1, 0.1], 31, 't2')]).out).toEqual([]);
  });

  it('counts fresh results only: stale repeats of one low result never open it', () => {
    expect(drive([at(1, 0.1), ...seqs(2, 80).map((s) => at(s, 0.1, 't1', s * 200))]).out).toEqual([]);
  });

  it('takes its thresholds from the rules config', () => {
    const rules = rulesWith({ spoof_suspected: { frames: 2, minMs: 1000, minShare: 0.5, windowMs: 5000 } });
    const { out } = drive(seconds([0.1, 0.9, 0.1]), rules);
    expect(brief(out)).toEqual([[6, 'spoof_suspected', 'open', 1, undefined]]);
  });
});

describe('text_visible', () => {
  const text = (seq: number, score: number, ageMs = 0) => frame(seq, [face()], { text: { regions: [], score, ageMs } });

  it('opens on consecutive fresh results at or above minScore', () => {
    const frames = [text(1, 0.8), text(2, 0.8, 200), text(3, 0.6), text(4, 0.5), frame(5, [face()]), text(6, 0.5, 200), text(7, 0.1), text(8, 0.3)];
    const { out } = drive(frames);
    expect(brief(out)).toEqual([
      [3, 'text_visible', 'open', 1, undefined],
      [8, 'text_visible', 'closed', 1, 3],
    ]);
    expect(out[0]).toMatchObject({ value: 0.8, message: 'Text visible (score 0.80)' });
  });

  it('ignores stale repeats of one result', () => {
    expect(drive([text(1, 0.9), ...seqs(2, 6).map((s) => text(s, 0.9, s * 200))]).out).toEqual([]);
  });
});

describe('disabled rules', () => {
  const off = rulesWith({ no_face: { enabled: false } });

  it('never open', () => {
    expect(drive(seqs(1, 10).map((s) => frame(s, [])), off).out).toEqual([]);
  });

  it('close an open episode when the rule is switched off, and start counting afresh when back on', () => {
    const frames = seqs(1, 8).map((s) => frame(s, []));
    const rules = [DEFAULT_RULES, DEFAULT_RULES, DEFAULT_RULES, DEFAULT_RULES, off, DEFAULT_RULES, DEFAULT_RULES, DEFAULT_RULES];
    const { out } = drive(frames, rules);
    expect(brief(out)).toEqual([
      [3, 'no_face', 'open', 1, undefined],
      [5, 'no_face', 'closed', 1, 4],
      [8, 'no_face', 'open', 6, undefined],
    ]);
    expect(out[1]?.message).toBe('No face in view (rule disabled)');
  });
});

describe('closeAllEpisodes', () => {
  it('closes every open episode with its own id and resets the state', () => {
    const away = (seq: number) => frame(seq, [face({}, { pose: { yaw: 50, pitch: 0, roll: 0, lookingAtCamera: false } }), other('t2')]);
    const { out, state } = drive(seqs(1, 5).map(away));
    expect(brief(out)).toEqual([
      [3, 'multiple_faces', 'open', 1, undefined],
      [5, 'looking_away', 'open', 1, undefined],
    ]);
    const viaJson = JSON.parse(JSON.stringify(state)) as RulesState;
    const closed = closeAllEpisodes(viaJson, { seq: 6, captureMs: 2200 }, 'stream ended');
    expect(closeAllEpisodes(state, { seq: 6, captureMs: 2200 }, 'stream ended')).toStrictEqual(closed);
    expect(closed.transitions.map((t) => [t.kind, t.state, t.id, t.startSeq, t.endSeq, t.endMs])).toEqual([
      ['multiple_faces', 'closed', 'room1.cam1.multiple_faces.1', 1, 5, 2000],
      ['looking_away', 'closed', 'room1.cam1.looking_away.1', 1, 5, 2000],
    ]);
    expect(closed.transitions.map((t) => t.id)).toEqual(out.map((t) => t.id));
    expect(closed.transitions[0]?.message).toBe('Multiple faces in view (2) (stream ended)');
    expect(closed.state).toStrictEqual(initialRulesState());
    expect(closeAllEpisodes(closed.state, { seq: 7, captureMs: 2400 }, 'again').transitions).toEqual([]);
  });
});

describe('state', () => {
  it('reads an entry that lacks a rule (written before the rule existed)', () => {
    const old = initialRulesState();
    delete old.kinds.text_visible;
    const r = evaluateRules(old, frame(1, [face()], { text: { regions: [], score: 0.9, ageMs: 0 } }), rulesWith({ text_visible: { frames: 1 } }), STREAM);
    expect(r.transitions.map((t) => t.kind)).toEqual(['text_visible']);
  });

  it('is deterministic: two replicas stepping the same state agree', () => {
    const s = drive(seqs(1, 2).map((n) => frame(n, []))).state;
    const a = evaluateRules(s, frame(3, []), DEFAULT_RULES, STREAM);
    const b = evaluateRules(JSON.parse(JSON.stringify(s)) as RulesState, frame(3, []), DEFAULT_RULES, STREAM);
    expect(b).toStrictEqual(a);
    expect(a.transitions[0]?.id).toBe('room1.cam1.no_face.1');
  });
});
