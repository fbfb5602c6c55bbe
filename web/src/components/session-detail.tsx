import { useEffect, useRef, useState } from 'preact/hooks';
import type { SessionInfo, SessionReport } from '@lookout/contracts';
import { API_PREFIX } from '@lookout/contracts';
import { api, roomToken } from '../lib/api';
import { href } from '../lib/route';
import { errorText } from '../lib/upload';
import { RecordingPlayer, seekVideo } from './recording-player';
import { SessionEndButton } from './session-end-button';
import { SessionReportView } from './session-report';

const LIVE_POLL_MS = 2000;

/** The session's report: `/live` polled while it runs, `/report` once it ended; `refresh` reloads. */
function useSessionReport(id: string): { report: SessionReport | null; error: unknown; refresh: () => void } {
  const [report, setReport] = useState<SessionReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const info = await api<SessionInfo>(`/sessions/${id}`);
        const r = await api<SessionReport>(`/sessions/${id}/${info.status === 'running' ? 'live' : 'report'}`);
        if (!live) return;
        setReport(r);
        setError(null);
        if (info.status === 'running') timer = setTimeout(() => void load(), LIVE_POLL_MS);
      } catch (e) {
        if (live) setError(e);
      }
    };
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [id, reload]);
  return { report, error, refresh: () => setReload((n) => n + 1) };
}

/**
 * Links to the server-rendered printable page and the attendance CSV, with a short-lived
 * viewer token: the admin key never goes into a URL.
 */
function usePrintableLink(id: string, room: string | undefined, ended: boolean): { html: string; csv: string } | null {
  const [link, setLink] = useState<{ html: string; csv: string } | null>(null);
  useEffect(() => {
    if (!ended || !room) return;
    roomToken(room, 'viewer')
      .then((t) => {
        const q = `?token=${encodeURIComponent(t)}`;
        setLink({ html: `${API_PREFIX}/sessions/${id}/report.html${q}`, csv: `${API_PREFIX}/sessions/${id}/attendance.csv${q}` });
      })
      .catch(() => setLink(null));
  }, [ended, room, id]);
  return link;
}

/**
 * One session: while it runs, its report so far (`/live`, polled); once ended, the final
 * report with a link to the server-rendered printable page and the browser's print.
 */
export function SessionDetail({ id }: { id: string }) {
  const { report, error, refresh } = useSessionReport(id);
  const ended = report?.session.status === 'ended';
  const printable = usePrintableLink(id, report?.session.room, ended);
  const video = useRef<HTMLVideoElement>(null);
  const recording = report?.session.recording;
  return (
    <>
      <div class="row session-head">
        <h1>
          Session <code>{id}</code>
        </h1>
        {report && <span class={`status ${ended ? '' : 'ok'}`}>{ended ? 'ended' : 'live'}</span>}
        <span class="session-head-actions no-print">
          <a href={href('sessions', { room: report?.session.room })}>All sessions</a>
          {report && !ended && <SessionEndButton id={id} onEnded={refresh} />}
          {ended && printable && (
            <a href={printable.html} target="_blank" rel="noopener">
              Printable report (HTML)
            </a>
          )}
          {ended && printable && (
            <a href={printable.csv} download>
              Attendance (CSV)
            </a>
          )}
          {ended && (
            <button type="button" class="secondary" onClick={() => print()}>
              Print
            </button>
          )}
        </span>
      </div>
      {report && !ended && <p class="muted no-print">Live: the report so far, refreshed every {LIVE_POLL_MS / 1000} s.</p>}
      {error !== null && (
        <p class="error" role="alert">
          {errorText(error)}
        </p>
      )}
      {!report && error === null && <p role="status">Loading the report…</p>}
      {report && recording && <RecordingPlayer recording={recording} room={report.session.room} videoRef={video} />}
      {report && <SessionReportView report={report} {...(recording ? { onSeek: (ms: number) => seekVideo(video.current, ms) } : {})} />}
    </>
  );
}
