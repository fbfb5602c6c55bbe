import type { SessionReport } from '@lookout/contracts';
import { videoClock } from '../lib/job-progress';
import { clock } from './session-chart-data';

const time = (ms: number) => new Date(ms).toLocaleTimeString();

/**
 * Who was here, and when: each identified person with first and last seen (also as time
 * since the session started) and time in view; unknown people counted as tracks (one
 * stay in view each), not frames.
 */
export function AttendanceTable({ report }: { report: SessionReport }) {
  const a = report.attendance;
  const since = (ms: number) => clock(Math.max(0, ms - report.session.startedMs));
  const rec = report.session.recording;
  // A recording's times are video times (m:ss) alone; a live session's, clock time and time since its start.
  const at = (ms: number) =>
    rec ? (
      videoClock(ms - rec.videoBaseMs)
    ) : (
      <>
        {time(ms)} <span class="muted">(+{since(ms)})</span>
      </>
    );
  return (
    <section class="card" aria-labelledby="attendance-title" data-testid="attendance">
      <h2 id="attendance-title">Attendance</h2>
      {a.people.length === 0 ? (
        <p class="muted">Nobody was identified.</p>
      ) : (
        <table>
          <caption class="visually-hidden">Identified people with first seen, last seen and time in view</caption>
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">First seen</th>
              <th scope="col">Last seen</th>
              <th scope="col">Time in view</th>
              <th scope="col">Visits</th>
            </tr>
          </thead>
          <tbody>
            {a.people.map((p) => (
              <tr key={p.subjectId}>
                <th scope="row">{p.name ?? p.subjectId}</th>
                <td>{at(p.firstSeenMs)}</td>
                <td>{at(p.lastSeenMs)}</td>
                <td>{clock(p.secondsInView * 1000)}</td>
                <td>{p.tracks}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p data-testid="attendance-unknown">
        {a.unknown.tracks === 0
          ? 'No unknown person.'
          : `Unknown people: ${a.unknown.tracks} (${a.unknown.tracks === 1 ? 'one track' : 'distinct tracks'}), in view ${clock(a.unknown.secondsInView * 1000)}.`}
      </p>
      {a.truncatedSeconds > 0 && <p class="muted">{a.truncatedSeconds} second(s) had more people in view than are listed (32): someone may be missing from them.</p>}
    </section>
  );
}
