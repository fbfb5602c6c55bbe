import { SessionReport, validator, type PersonInView, type RecognitionEvent, type SessionInfo, type StreamMetricsEvent } from '@lookout/contracts';
import { attendanceCsv, csvField } from '../src/sessions/attendance-csv.js';
import { buildAttendance, combinePeople } from '../src/sessions/attendance.js';
import { buildReport, mergeSeconds } from '../src/sessions/report.js';
import { reportHtml } from '../src/sessions/report-html.js';

const T0 = 1_700_000_000_000;
const S0 = T0 / 1000;
const session: SessionInfo = { sessionId: 'sess-a', room: 'class', stream: 'door', metadata: {}, status: 'ended', startedMs: T0, endedMs: T0 + 20_000 };

const obama = (track: string, frames = 5): PersonInView => ({ track, subjectId: 'obama', name: 'Barack Obama', frames });
const jolie = (track: string, frames = 5): PersonInView => ({ track, subjectId: 'jolie', name: 'Angelina Jolie', frames });
const nobody = (track: string, frames = 5): PersonInView => ({ track, subjectId: null, name: null, frames });

function second(i: number, people: PersonInView[] | undefined, over: Partial<StreamMetricsEvent> = {}): StreamMetricsEvent {
  return {
    room: 'class',
    stream: 'door',
    sessionId: 'sess-a',
    second: S0 + i,
    frames: 5,
    facesMean: people?.length ?? 0,
    principalPresent: 1,
    scores: { eyeContact: null, engagement: null, positivity: null, postureStability: null, confidence: null },
    expressions: {},
    latencyMs: null,
    ...(people ? { people } : {}),
    ...over,
  };
}

const seconds = (from: number, to: number, people: (i: number) => PersonInView[]) => Array.from({ length: to - from }, (_, k) => second(from + k, people(from + k)));

describe('attendance: who was here, and when (issue 16)', () => {
  it('lists each identified person with first seen, last seen and time in view', () => {
    const metrics = [...seconds(0, 6, () => [obama('t0')]), ...seconds(6, 12, () => [jolie('t1')])];
    const a = buildAttendance(mergeSeconds(metrics), []);
    expect(a.people).toEqual([
      { subjectId: 'obama', name: 'Barack Obama', firstSeenMs: T0, lastSeenMs: T0 + 6000, secondsInView: 6, tracks: 1 },
      { subjectId: 'jolie', name: 'Angelina Jolie', firstSeenMs: T0 + 6000, lastSeenMs: T0 + 12_000, secondsInView: 6, tracks: 1 },
    ]);
    expect(a.unknown).toEqual({ tracks: 0, secondsInView: 0, list: [] });
  });

  it('counts unknown people as distinct tracks, not frames or seconds', () => {
    const metrics = [...seconds(0, 10, () => [nobody('t0', 10)]), ...seconds(12, 14, () => [nobody('t4', 3), nobody('t5', 1)])];
    const a = buildAttendance(mergeSeconds(metrics), []);
    // t5 was seen in one frame: a false detection, not a person.
    expect(a.unknown.tracks).toBe(2);
    expect(a.unknown.secondsInView).toBe(12);
    expect(a.unknown.list).toEqual([
      { track: 't0', firstSeenMs: T0, lastSeenMs: T0 + 10_000, secondsInView: 10 },
      { track: 't4', firstSeenMs: T0 + 12_000, lastSeenMs: T0 + 14_000, secondsInView: 2 },
    ]);
    expect(a.people).toEqual([]);
  });

  it('a track identified later counts as that person from its first second, never as unknown', () => {
    const metrics = [second(0, [nobody('t0', 2)]), second(1, [nobody('t0')]), second(2, [obama('t0')]), second(3, [nobody('t0')])];
    const a = buildAttendance(mergeSeconds(metrics), []);
    expect(a.people).toEqual([{ subjectId: 'obama', name: 'Barack Obama', firstSeenMs: T0, lastSeenMs: T0 + 4000, secondsInView: 4, tracks: 1 }]);
    expect(a.unknown.tracks).toBe(0);
  });

  it('a PASS recognition of a track names it too; a person who came back twice has two tracks but one row', () => {
    const pass: RecognitionEvent = { id: 'r1', room: 'class', stream: 'door', sessionId: 'sess-a', seq: 3, captureMs: T0 + 500, trackId: 't7', decision: 'PASS', subjectId: 'jolie', name: 'Angelina Jolie', similarity: 0.7 };
    const metrics = [...seconds(0, 3, () => [nobody('t7')]), ...seconds(10, 12, () => [jolie('t9')])];
    const a = buildAttendance(mergeSeconds(metrics), [pass]);
    expect(a.people).toEqual([{ subjectId: 'jolie', name: 'Angelina Jolie', firstSeenMs: T0, lastSeenMs: T0 + 12_000, secondsInView: 5, tracks: 2 }]);
  });

  it('overlapping people in the same second are each in view that second; time in view counts seconds, not tracks', () => {
    const metrics = seconds(0, 4, (i) => (i < 2 ? [obama('t0'), obama('t1')] : [obama('t0'), nobody('t2')]));
    const a = buildAttendance(mergeSeconds(metrics), []);
    expect(a.people[0]).toMatchObject({ subjectId: 'obama', secondsInView: 4, tracks: 2 });
    expect(a.unknown).toMatchObject({ tracks: 1, secondsInView: 2 });
  });

  it('combines the two parts of one second per track, and reads events from before attendance', () => {
    expect(combinePeople([nobody('t0', 2)], [obama('t0', 3), nobody('t1', 4)])).toEqual([{ ...obama('t0', 5) }, nobody('t1', 4)]);
    const merged = mergeSeconds([second(0, [nobody('t0', 2)]), second(0, [obama('t0', 3)], { peopleLeftOut: 2 }), second(1, undefined)]);
    expect(merged[0]?.people).toEqual([obama('t0', 5)]);
    const a = buildAttendance(merged, []);
    expect(a.truncatedSeconds).toBe(1);
    expect(a.people[0]).toMatchObject({ subjectId: 'obama', secondsInView: 1 });
  });

  it('is part of the report (JSON and HTML), and the report passes its contract', () => {
    const report = buildReport(session, { alerts: [], recognitions: [], metrics: [...seconds(0, 6, () => [obama('t0')]), ...seconds(6, 9, () => [nobody('t1')])] }, T0 + 30_000);
    expect(() => validator('session report', SessionReport).parse(report)).not.toThrow();
    expect(report.attendance.people.map((p) => p.name)).toEqual(['Barack Obama']);
    const html = reportHtml({ ...report, attendance: { ...report.attendance, people: [{ ...report.attendance.people[0]!, name: '<img src=x onerror=alert(1)>' }] } });
    expect(html).toContain('<h2>Attendance</h2>');
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(html).not.toContain('<img src=x');
    expect(html).toMatch(/Unknown people: <b>1<\/b> track/);
  });
});

describe('attendance CSV', () => {
  it('escapes quotes, commas and line breaks, and neutralises formulas', () => {
    expect(csvField('Barack Obama')).toBe('Barack Obama');
    expect(csvField('Smith, "Jo"')).toBe('"Smith, ""Jo"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=cmd|\' /C calc\'!A0')).toBe("'=cmd|' /C calc'!A0");
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-2')).toBe("'-2");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvField(-1.5)).toBe('-1.5');
    expect(csvField(null)).toBe('');
  });

  it('writes one row per identified person and per unknown track, with times from the session start', () => {
    const metrics = [...seconds(0, 6, () => [{ ...obama('t0'), name: '=cmd, "boss"' }]), ...seconds(6, 12, () => [jolie('t1')]), ...seconds(12, 14, () => [nobody('t2')])];
    const report = buildReport(session, { alerts: [], recognitions: [], metrics }, T0 + 30_000);
    const lines = attendanceCsv(report).split('\r\n');
    expect(lines[0]).toBe('kind,subject_id,name,track,first_seen,last_seen,first_seen_s,last_seen_s,seconds_in_view,tracks');
    expect(lines[1]).toBe(`person,obama,"'=cmd, ""boss""",,${new Date(T0).toISOString()},${new Date(T0 + 6000).toISOString()},0,6,6,1`);
    expect(lines[2]).toBe(`person,jolie,Angelina Jolie,,${new Date(T0 + 6000).toISOString()},${new Date(T0 + 12_000).toISOString()},6,12,6,1`);
    expect(lines[3]).toBe(`unknown,,,t2,${new Date(T0 + 12_000).toISOString()},${new Date(T0 + 14_000).toISOString()},12,14,2,1`);
    expect(lines[4]).toBe('');
    expect(lines).toHaveLength(5);
  });
});
