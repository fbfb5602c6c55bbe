import { SessionReport, validator, type AlertEvent, type SessionInfo, type StreamMetricsEvent } from '@lookout/contracts';
import { buildReport } from '../src/sessions/report.js';

const report = validator('session report', SessionReport);
/** Video time 0 of the recording, on its capture clock (a whole second, as the job engine sets it). */
const BASE = 1_700_000_000_000;
const DURATION = 12_000;
const recording: SessionInfo = {
  sessionId: 's-rec',
  room: 'rec-j1',
  stream: 'video',
  metadata: { jobId: 'j1', name: 'interview.webm' },
  status: 'running',
  startedMs: BASE,
  recording: { jobId: 'j1', videoBaseMs: BASE, durationMs: DURATION },
};

const second = (i: number): StreamMetricsEvent => ({
  room: 'rec-j1',
  stream: 'video',
  sessionId: 's-rec',
  second: BASE / 1000 + i,
  frames: 5,
  facesMean: 1,
  principalPresent: 1,
  scores: { eyeContact: 60, engagement: 50, positivity: 50, postureStability: 90, confidence: 95 },
  expressions: { neutral: 5 },
  latencyMs: null,
});
const change: AlertEvent = {
  id: 'rec-j1.video.identity_changed.31',
  kind: 'identity_changed',
  severity: 'critical',
  state: 'open',
  room: 'rec-j1',
  stream: 'video',
  sessionId: 's-rec',
  startMs: BASE + 6200,
  startSeq: 31,
  message: 'Barack Obama was replaced by Angelina Jolie',
};

describe('the report of a recording job\'s session (video times)', () => {
  it('gives every episode its start in video time, for the player to seek to', () => {
    const ended = { ...recording, status: 'ended' as const, endedMs: BASE + DURATION };
    const r = buildReport(ended, { metrics: Array.from({ length: 12 }, (_, i) => second(i)), alerts: [change, { ...change, state: 'closed', endMs: BASE + DURATION }], recognitions: [] }, Date.now());
    expect(report.is(r)).toBe(true);
    expect(r.alerts).toEqual([expect.objectContaining({ kind: 'identity_changed', startMs: BASE + 6200, videoMs: 6200, endMs: BASE + DURATION })]);
    expect(r.durationMs).toBe(DURATION);
    expect(r.gaps).toEqual([]);
    expect(r.analysedShare).toBe(1);
  });

  it('while it is analysed, the video not reached yet is no gap: its clock stops at the video\'s end', () => {
    // Half analysed, a year after the capture clock's start: a live session would show an 11-month gap.
    const r = buildReport(recording, { metrics: Array.from({ length: 6 }, (_, i) => second(i)), alerts: [change], recognitions: [] }, BASE + 365 * 86_400_000);
    expect(r.durationMs).toBe(DURATION);
    expect(r.gaps).toEqual([{ startMs: BASE + 6000, endMs: null }]);
    expect(r.alerts[0]).toMatchObject({ videoMs: 6200, endMs: null });
  });

  it('a live session\'s episodes carry no video time', () => {
    const { recording: _r, ...live } = recording;
    const r = buildReport({ ...live, status: 'ended', endedMs: BASE + DURATION }, { metrics: [], alerts: [change], recognitions: [] }, BASE + DURATION);
    expect(r.alerts[0]!.videoMs).toBeUndefined();
  });
});
