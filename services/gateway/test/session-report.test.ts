import { SessionReport, validator, type AlertEvent, type RecognitionEvent, type SessionInfo, type StreamMetricsEvent } from '@lookout/contracts';
import { buildReport, mergeSeconds, quantile, summarize } from '../src/sessions/report.js';
import { reportHtml } from '../src/sessions/report-html.js';
import { timeTicks } from '../src/sessions/svg-chart.js';

const sessionReportValidator = validator('session report', SessionReport);
const T0 = 1_700_000_000_000;
const S0 = T0 / 1000;
const session: SessionInfo = { sessionId: 'sess-1', room: 'exam', stream: 'cam', expectedSubjectId: 'obama', metadata: { candidate: 'A <b>bold</b> name' }, status: 'ended', startedMs: T0 - 2000, endedMs: T0 + 12_000 };

function second(i: number, over: Partial<StreamMetricsEvent> = {}): StreamMetricsEvent {
  return {
    room: 'exam',
    stream: 'cam',
    sessionId: 'sess-1',
    second: S0 + i,
    frames: 5,
    facesMean: 1,
    principalPresent: 1,
    scores: { eyeContact: 60 + i, engagement: 50 + i * 2, positivity: 50, postureStability: 90, confidence: 95 },
    expressions: { neutral: 4, happy: 1 },
    latencyMs: 40,
    ...over,
  };
}

function alert(over: Partial<AlertEvent>): AlertEvent {
  return { id: 'x', kind: 'looking_away', severity: 'info', state: 'open', room: 'exam', stream: 'cam', sessionId: 'sess-1', startMs: T0, startSeq: 0, message: 'm', ...over };
}

function recognition(subjectId: string, name: string, captureMs: number, similarity: number): RecognitionEvent {
  return { id: `r-${subjectId}-${captureMs}`, room: 'exam', stream: 'cam', sessionId: 'sess-1', seq: 1, captureMs, trackId: 't1', decision: 'PASS', subjectId, name, similarity };
}

const change = alert({
  id: 'exam.cam.identity_changed.90',
  kind: 'identity_changed',
  severity: 'critical',
  startMs: T0 + 6000,
  startSeq: 90,
  message: 'Barack Obama was replaced by Angelina Jolie',
  from: { subjectId: 'obama', name: 'Barack Obama' },
  to: { subjectId: 'jolie', name: 'Angelina Jolie' },
});

const events = {
  metrics: [
    ...Array.from({ length: 10 }, (_, i) => second(i)),
    // A second without a face: scores missing, no expression.
    second(10, { frames: 5, principalPresent: 0, facesMean: 0, scores: { eyeContact: null, engagement: null, positivity: null, postureStability: null, confidence: null }, expressions: {} }),
    // The other part of second 3 (flushed by an end, continued by the next frame).
    second(3, { frames: 5, scores: { eyeContact: 0, engagement: 0, positivity: 0, postureStability: 0, confidence: 0 }, expressions: { happy: 5 } }),
    // Another session on the same stream: ignored.
    second(4, { sessionId: 'other', frames: 100 }),
  ],
  alerts: [
    change,
    { ...change, state: 'closed' as const, endMs: T0 + 11_000, endSeq: 170, message: 'closed: session ended' },
    alert({ id: 'exam.cam.looking_away.30', startMs: T0 + 2000, startSeq: 30 }),
    alert({ id: 'other.one', sessionId: 'other', kind: 'no_face' }),
  ],
  recognitions: [recognition('obama', 'Barack Obama', T0 + 500, 0.71), recognition('jolie', 'Angelina Jolie', T0 + 6500, 0.66), recognition('obama', 'Barack Obama', T0 + 40_000, 0.74)],
};

describe('session report from events', () => {
  const report = buildReport(session, events, T0 + 20_000);

  it('matches the SessionReport contract', () => {
    expect(sessionReportValidator.is(report)).toBe(true);
  });

  it('sums frames and measures the session', () => {
    expect(report.durationMs).toBe(14_000);
    expect(report.framesAnalysed).toBe(12 * 5);
    // 55 of 60 frames had the principal (second 10 had none).
    expect(report.principalPresent).toBeCloseTo(55 / 60, 3);
  });

  it('has one timeline point per second, merging split seconds weighted by frames', () => {
    expect(report.timelines.engagement).toHaveLength(11);
    expect(report.timelines.engagement[0]).toEqual([T0, 50]);
    expect(report.timelines.engagement[3]).toEqual([T0 + 3000, 28]);
    expect(report.timelines.engagement[10]).toEqual([T0 + 10_000, null]);
    expect(report.timelines.eyeContact[9]).toEqual([T0 + 9000, 69]);
    // Second 3: neutral 4, happy 1 + 5 → happy; second 10 has no expression.
    expect(report.timelines.expression).toHaveLength(10);
    expect(report.timelines.expression[0]).toEqual([T0, 'neutral']);
    expect(report.timelines.expression[3]).toEqual([T0 + 3000, 'happy']);
  });

  it('summarises scores over per-second means', () => {
    const eng = report.scores.engagement!;
    expect(eng.min).toBe(28);
    expect(eng.max).toBe(68);
    expect(eng.mean).toBeCloseTo((50 + 52 + 54 + 28 + 58 + 60 + 62 + 64 + 66 + 68) / 10, 1);
    expect(report.scores.postureStability).toMatchObject({ min: 45, max: 90 });
    expect(summarize([null, null])).toBeNull();
    expect(quantile([0, 10], 0.1)).toBeCloseTo(1);
    expect(summarize([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual({ mean: 5.5, min: 1, max: 10, p10: 1.9, p90: 9.1 });
  });

  it('merges episode open and close by id; an unclosed one ends null', () => {
    expect(report.alerts).toEqual([
      { id: 'exam.cam.looking_away.30', kind: 'looking_away', severity: 'info', startMs: T0 + 2000, endMs: null, message: 'm' },
      {
        id: change.id,
        kind: 'identity_changed',
        severity: 'critical',
        startMs: T0 + 6000,
        endMs: T0 + 11_000,
        message: change.message,
        from: change.from,
        to: change.to,
      },
    ]);
  });

  it('summarises identity: recognitions grouped, changes counted, not verified after a change', () => {
    expect(report.identity).toEqual({
      expectedSubjectId: 'obama',
      recognized: [
        { subjectId: 'obama', name: 'Barack Obama', decision: 'PASS', count: 2, firstMs: T0 + 500, bestSimilarity: 0.74 },
        { subjectId: 'jolie', name: 'Angelina Jolie', decision: 'PASS', count: 1, firstMs: T0 + 6500, bestSimilarity: 0.66 },
      ],
      changes: 1,
      verified: false,
    });
    const calm = buildReport(session, { ...events, alerts: [] }, T0);
    expect(calm.identity.verified).toBe(true);
    expect(buildReport({ ...session, expectedSubjectId: undefined }, events, T0).identity.verified).toBeNull();
    expect(buildReport(session, { ...events, recognitions: [] }, T0).identity.verified).toBe(false);
  });

  it('an empty or running session gives an empty report, measured to now', () => {
    const running = buildReport({ ...session, status: 'running', endedMs: undefined }, { alerts: [], recognitions: [], metrics: [] }, T0 + 1000);
    expect(running).toMatchObject({ durationMs: 3000, framesAnalysed: 0, principalPresent: null, alerts: [], timelines: { engagement: [], expression: [] } });
    expect(running.scores.engagement).toBeNull();
    expect(reportHtml(running)).toContain('still running');
  });

  it('never claims a shorter session than its own analysed seconds and episodes (capture clock ahead of or behind the gateway)', () => {
    // Ended 0.6 s after it started on the gateway's clock, yet reid tagged 40 s of this
    // session's seconds and an episode at +32 s: the clocks disagree, the data does not lie.
    const short: SessionInfo = { ...session, startedMs: T0, endedMs: T0 + 600 };
    const tagged = { metrics: Array.from({ length: 40 }, (_, i) => second(i)), alerts: [alert({ id: 'a', startMs: T0 + 32_000, state: 'closed', endMs: T0 + 35_000 })], recognitions: [] };
    const r = buildReport(short, tagged, T0 + 5000);
    expect(r.durationMs).toBe(40_000);
    expect(reportHtml(r)).toMatch(/Duration<\/th><td>0:40</);
    // Seconds stamped before the gateway's start (publisher clock behind) count too.
    const behind = buildReport({ ...short, startedMs: T0 + 10_000, endedMs: T0 + 12_000 }, tagged, T0 + 60_000);
    expect(behind.durationMs).toBe(40_000);
    // Events of another session never stretch this one.
    expect(buildReport(short, { ...tagged, metrics: tagged.metrics.map((m) => ({ ...m, sessionId: 'other' })), alerts: [] }, T0).durationMs).toBe(600);
  });

  it('reports an outage as a gap, not as presence, and breaks the timelines there', () => {
    // Seconds 0–4 analysed, nothing for 0:05–0:12 (camera gone), then 12–13 again; session 0:00–0:20.
    const s: SessionInfo = { ...session, startedMs: T0, endedMs: T0 + 20_000 };
    const metrics = [0, 1, 2, 3, 4, 12, 13].map((i) => second(i));
    const r = buildReport(s, { metrics, alerts: [], recognitions: [] }, T0 + 30_000);
    expect(r.gaps).toEqual([
      { startMs: T0 + 5000, endMs: T0 + 12_000 },
      { startMs: T0 + 14_000, endMs: T0 + 20_000 },
    ]);
    expect(r.analysedShare).toBeCloseTo(7 / 20, 3);
    // Presence is measured over analysed frames only: the outage does not count as present.
    expect(r.principalPresent).toBe(1);
    expect(r.timelines.engagement.filter(([, v]) => v === null).map(([t]) => t)).toEqual([T0 + 5000, T0 + 14_000]);
    expect(sessionReportValidator.is(r)).toBe(true);
    expect(reportHtml(r)).toContain('Gaps in analysis');
    // While the session runs, silence beyond the publishing lag is an open gap; a second ago is not.
    const running: SessionInfo = { ...s, status: 'running', endedMs: undefined };
    expect(buildReport(running, { metrics, alerts: [], recognitions: [] }, T0 + 15_500).gaps).toEqual([{ startMs: T0 + 5000, endMs: T0 + 12_000 }]);
    expect(buildReport(running, { metrics, alerts: [], recognitions: [] }, T0 + 30_000).gaps.at(-1)).toEqual({ startMs: T0 + 14_000, endMs: null });
  });

  it('mergeSeconds orders seconds', () => {
    expect(mergeSeconds([second(2), second(0), second(1)]).map((m) => m.second - S0)).toEqual([0, 1, 2]);
  });
});

describe('printable report page', () => {
  const html = reportHtml(buildReport(session, events, T0 + 20_000));

  it('has the charts inline and no script or outside resource', () => {
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).toContain('<polyline');
    expect(html).not.toMatch(/<script|src=|href=/i);
    expect(html).toContain('@media print');
  });

  it('lists the episode and escapes what users wrote', () => {
    expect(html).toContain('identity_changed');
    expect(html).toContain('Barack Obama → Angelina Jolie');
    expect(html).not.toContain('<b>bold</b>');
    expect(html).toContain('A &#60;b&#62;bold&#60;/b&#62; name');
  });

  it('puts readable ticks on the time axis', () => {
    expect(timeTicks({ startMs: 0, endMs: 12_000 })).toEqual([0, 2000, 4000, 6000, 8000, 10_000, 12_000]);
    expect(timeTicks({ startMs: 0, endMs: 3_600_000 }).length).toBeLessThanOrEqual(10);
  });
});
