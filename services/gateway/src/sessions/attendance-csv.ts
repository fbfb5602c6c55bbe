import type { SessionReport } from '@lookout/contracts';

/**
 * A session's attendance as CSV (RFC 4180: CRLF line ends, a field with a quote, comma or
 * line break quoted, quotes doubled). One row per identified person, then one per
 * unknown track, so a spreadsheet can sum, filter and pivot it as it is.
 *
 * Names come from whoever enrolled the subject, and a spreadsheet runs a cell that starts
 * with = + - @ (or a tab or CR) as a formula (`=HYPERLINK(…)`, `=cmd|…`): such a field is
 * written with a leading apostrophe, which makes it text (OWASP "CSV injection").
 */

export const ATTENDANCE_CSV_COLUMNS = [
  'kind',
  'subject_id',
  'name',
  'track',
  'first_seen',
  'last_seen',
  'first_seen_s',
  'last_seen_s',
  'seconds_in_view',
  'tracks',
] as const;

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field: neutralised if a spreadsheet would take it for a formula, quoted if needed. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let s = String(value);
  // Numbers are written by us (negative offsets included) and stay numbers.
  if (typeof value === 'string' && FORMULA_START.test(s)) s = `'${s}`;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const iso = (ms: number): string => new Date(ms).toISOString();
/** Seconds since the session started: what "at 0–6 s" in a recording means. */
const offset = (ms: number, startMs: number): number => Math.round((ms - startMs) / 100) / 10;

export function attendanceCsv(report: SessionReport): string {
  const start = report.session.startedMs;
  const times = (x: { firstSeenMs: number; lastSeenMs: number; secondsInView: number }) => [iso(x.firstSeenMs), iso(x.lastSeenMs), offset(x.firstSeenMs, start), offset(x.lastSeenMs, start), x.secondsInView];
  const rows: Array<Array<string | number | null>> = [
    [...ATTENDANCE_CSV_COLUMNS],
    ...report.attendance.people.map((p) => ['person', p.subjectId, p.name, null, ...times(p), p.tracks]),
    ...report.attendance.unknown.list.map((u) => ['unknown', null, null, u.track, ...times(u), 1]),
  ];
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** A file name for the download: the session id is an Id (letters, digits, - and _). */
export const attendanceFileName = (report: SessionReport): string => `attendance-${report.session.sessionId}.csv`;
