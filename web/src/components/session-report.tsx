import type { SessionReport } from '@lookout/contracts';
import { episodeVideoMs, videoClock } from '../lib/job-progress';
import { SeekButton } from './recording-player';
import { Fact } from './fact';
import { AttendanceTable } from './session-attendance';
import { SessionCharts } from './session-charts';
import { clock, expressionShares, SEVERITY_COLOURS } from './session-chart-data';
import './session-page.css';

const SCORE_NAMES: Array<[keyof SessionReport['scores'], string]> = [
  ['engagement', 'Engagement'],
  ['eyeContact', 'Eye contact'],
  ['positivity', 'Positivity'],
  ['postureStability', 'Posture stability'],
  ['confidence', 'Detection confidence'],
];

const time = (ms: number) => new Date(ms).toLocaleTimeString();
const pct = (x: number | null) => (x === null ? '—' : `${Math.round(x * 100)}%`);
/** A moment of the session as shown: the clock time, or a recording's video time (m:ss). */
const at = (r: SessionReport, ms: number) => (r.session.recording ? videoClock(ms - r.session.recording.videoBaseMs) : time(ms));

/** `onSeek`: plays a recording's video from a video time (ms); the report's times become buttons. */
export type SeekHandler = (videoMs: number) => void;

/** A session's report (final or live so far): key figures, charts and accessible tables. */
export function SessionReportView({ report, onSeek }: { report: SessionReport; onSeek?: SeekHandler }) {
  const s = report.session;
  return (
    <div class="session-report" data-testid="session-report">
      <dl class="card session-facts">
        <Fact term="Room / stream" value={`${s.room} / ${s.stream}`} />
        <Fact term="Started" value={new Date(s.startedMs).toLocaleString()} />
        {s.recording?.durationMs !== undefined && <Fact term="Video length" value={videoClock(s.recording.durationMs)} />}
        <Fact term={s.status === 'running' ? 'Running for' : 'Duration'} value={clock(report.durationMs)} />
        <Fact term="Frames analysed" value={String(report.framesAnalysed)} />
        <Fact term="Principal present" value={pct(report.principalPresent)} />
        <Fact term="Analysed" value={report.analysedShare === null ? '—' : `${pct(report.analysedShare)} of the time`} />
        <Fact term="Gaps in analysis" value={String(report.gaps.length)} />
        <Fact term="Alert episodes" value={String(report.alerts.length)} />
        <Fact term="Identity" value={report.identity.verified === null ? 'no expected subject' : report.identity.verified ? 'verified' : 'not verified'} />
        {Object.entries(s.metadata).map(([k, v]) => (
          <Fact term={k} value={String(v)} />
        ))}
      </dl>
      <section class="card" aria-labelledby="charts-title">
        <h2 id="charts-title">Timelines</h2>
        <SessionCharts report={report} {...(onSeek ? { onSeek } : {})} />
      </section>
      <AlertTable report={report} {...(onSeek ? { onSeek } : {})} />
      <AttendanceTable report={report} />
      <GapTable report={report} />
      <div class="session-columns">
        <ScoreTable report={report} />
        <IdentityTable report={report} />
        <ExpressionTable report={report} />
      </div>
    </div>
  );
}


/** Spans without analysis: nothing is known of them, so they are shown, not averaged away. */
function GapTable({ report }: { report: SessionReport }) {
  if (report.gaps.length === 0) return null;
  const t0 = report.session.startedMs;
  return (
    <section class="card" aria-labelledby="gaps-title">
      <h2 id="gaps-title">Gaps in analysis</h2>
      <p class="muted">No frame of the stream was analysed in these spans (camera or publisher gone, stream stalled, a service down): they count neither as presence nor as absence.</p>
      <div class="session-table-wrap">
        <table data-testid="analysis-gaps">
          <thead>
            <tr>
              <th scope="col">From</th>
              <th scope="col">To</th>
              <th scope="col">Length</th>
            </tr>
          </thead>
          <tbody>
            {report.gaps.map((g) => (
              <tr key={g.startMs}>
                <td>{report.session.recording ? at(report, g.startMs) : <>{time(g.startMs)} <span class="muted">(+{clock(g.startMs - t0)})</span></>}</td>
                <td>{g.endMs === null ? <span class="status warn">ongoing</span> : at(report, g.endMs)}</td>
                <td>{g.endMs === null ? '—' : clock(g.endMs - g.startMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function AlertTable({ report, onSeek }: { report: SessionReport; onSeek?: SeekHandler }) {
  const t0 = report.session.startedMs;
  const rec = report.session.recording;
  return (
    <section class="card" aria-labelledby="alerts-title">
      <h2 id="alerts-title">Alert episodes</h2>
      {report.alerts.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <div class="session-table-wrap">
          <table data-testid="alert-episodes">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Severity</th>
                <th scope="col">Start</th>
                <th scope="col">End</th>
                <th scope="col">Duration</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {report.alerts.map((a) => (
                <tr key={a.id} class={`sev-${a.severity}`}>
                  <th scope="row">{a.kind.replaceAll('_', ' ')}</th>
                  <td>
                    <span class="session-sev" style={{ background: SEVERITY_COLOURS[a.severity] }} aria-hidden="true" /> {a.severity}
                  </td>
                  <td>
                    {rec ? (
                      <SeekButton ms={episodeVideoMs(a, rec)} what={a.kind.replaceAll('_', ' ')} {...(onSeek ? { onSeek } : {})} />
                    ) : (
                      <>
                        {time(a.startMs)} <span class="muted">(+{clock(a.startMs - t0)})</span>
                      </>
                    )}
                  </td>
                  <td>{a.endMs === null ? <span class="status warn">open</span> : at(report, a.endMs)}</td>
                  <td>{a.endMs === null ? '—' : clock(a.endMs - a.startMs)}</td>
                  <td>
                    {a.message}
                    {a.from && a.to && <span class="muted"> ({a.from.name ?? 'unknown'} → {a.to.name ?? 'unknown'})</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function ScoreTable({ report }: { report: SessionReport }) {
  const n = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(0));
  return (
    <section class="card" aria-labelledby="scores-title">
      <h2 id="scores-title">Scores</h2>
      <table>
        <caption class="visually-hidden">Per-second scores, 0 to 100</caption>
        <thead>
          <tr>
            <th scope="col">Score</th>
            <th scope="col">Mean</th>
            <th scope="col">Min</th>
            <th scope="col">P10</th>
            <th scope="col">P90</th>
            <th scope="col">Max</th>
          </tr>
        </thead>
        <tbody>
          {SCORE_NAMES.map(([key, name]) => {
            const v = report.scores[key];
            return (
              <tr key={key}>
                <th scope="row">{name}</th>
                <td>{n(v?.mean)}</td>
                <td>{n(v?.min)}</td>
                <td>{n(v?.p10)}</td>
                <td>{n(v?.p90)}</td>
                <td>{n(v?.max)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function IdentityTable({ report }: { report: SessionReport }) {
  const id = report.identity;
  const expectedName = id.recognized.find((g) => g.subjectId === id.expectedSubjectId)?.name;
  return (
    <section class="card" aria-labelledby="identity-title">
      <h2 id="identity-title">Identity</h2>
      <p>
        Expected: <strong>{id.expectedSubjectId ? (expectedName ?? id.expectedSubjectId) : 'nobody in particular'}</strong>
        {expectedName && <span class="muted"> ({id.expectedSubjectId})</span>} · identity changes: {id.changes}
      </p>
      {id.recognized.length === 0 ? (
        <p class="muted">Nobody was recognised.</p>
      ) : (
        <table>
          <caption class="visually-hidden">Recognitions per person</caption>
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">Decision</th>
              <th scope="col">Events</th>
              <th scope="col">First seen</th>
              <th scope="col">Best similarity</th>
            </tr>
          </thead>
          <tbody>
            {id.recognized.map((g) => (
              <tr key={`${g.subjectId}:${g.decision}`}>
                <th scope="row">{g.name ?? g.subjectId ?? 'unknown'}</th>
                <td>{g.decision}</td>
                <td>{g.count}</td>
                <td>{at(report, g.firstMs)}</td>
                <td>{g.bestSimilarity.toFixed(2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ExpressionTable({ report }: { report: SessionReport }) {
  const shares = expressionShares(report);
  return (
    <section class="card" aria-labelledby="expr-title">
      <h2 id="expr-title">Expressions</h2>
      {shares.length === 0 ? (
        <p class="muted">No expression data.</p>
      ) : (
        <table>
          <caption class="visually-hidden">Seconds per dominant expression</caption>
          <thead>
            <tr>
              <th scope="col">Expression</th>
              <th scope="col">Seconds</th>
              <th scope="col">Share</th>
            </tr>
          </thead>
          <tbody>
            {shares.map((e) => (
              <tr key={e.label}>
                <th scope="row">{e.label}</th>
                <td>{e.seconds}</td>
                <td>{pct(e.share)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
