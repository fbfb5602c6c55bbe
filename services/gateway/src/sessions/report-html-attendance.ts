import type { SessionReport } from '@lookout/contracts';
import { elapsedLabel, escapeXml as esc } from './svg-chart.js';

/**
 * The printable report's attendance section: who was here, and when. Times are elapsed
 * from `t0`, the same origin as the report's charts and tables; names are escaped (they
 * come from whoever enrolled the subject).
 */
export function attendanceSection(r: SessionReport, t0: number): string {
  const a = r.attendance;
  const when = (x: { firstSeenMs: number; lastSeenMs: number; secondsInView: number }) =>
    `<td>${elapsedLabel(x.firstSeenMs - t0)}</td><td>${elapsedLabel(x.lastSeenMs - t0)}</td><td>${x.secondsInView} s</td>`;
  const people = a.people.map((p) => `<tr><td>${esc(p.name ?? p.subjectId)}</td><td>${esc(p.subjectId)}</td>${when(p)}<td>${p.tracks}</td></tr>`);
  const table = people.length
    ? `<table class="grid attendance"><tr><th>name</th><th>subject</th><th>first seen</th><th>last seen</th><th>time in view</th><th>visits (tracks)</th></tr>${people.join('')}</table>`
    : '<p>Nobody identified.</p>';
  const unknown =
    a.unknown.tracks === 0
      ? '<p>No unknown person.</p>'
      : `<p>Unknown people: <b>${a.unknown.tracks}</b> track${a.unknown.tracks === 1 ? '' : 's'} (a track is one stay in view), in view ${a.unknown.secondsInView} s.</p>`;
  const capped = a.truncatedSeconds > 0 ? `<p class="note">${a.truncatedSeconds} second(s) had more people in view than reid lists (32): someone may be missing from them.</p>` : '';
  return `<section><h2>Attendance</h2>${table}${unknown}${capped}</section>`;
}
