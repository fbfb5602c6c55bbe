import { useEffect, useState } from 'preact/hooks';
import type { SessionInfo, SubjectSummary } from '@lookout/contracts';
import { api } from '../lib/api';
import { href } from '../lib/route';
import { errorText } from '../lib/upload';
import { clock } from './session-chart-data';

/** Sessions, newest first, filtered by room and status. */
export function SessionList({ room, onRoom }: { room: string; onRoom: (room: string) => void }) {
  const [status, setStatus] = useState('');
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const [names, setNames] = useState<Map<string, string>>(new Map());

  useEffect(() => {
    // Names for the expected-subject column; ids are shown without them.
    api<{ subjects: SubjectSummary[] }>('/gallery/subjects?limit=1000').then((r) => setNames(new Map(r.subjects.map((x) => [x.subjectId, x.name]))), () => undefined);
  }, []);

  useEffect(() => {
    let live = true;
    const q = new URLSearchParams({ limit: '100', ...(room ? { room } : {}), ...(status ? { status } : {}) });
    api<{ sessions: SessionInfo[] }>(`/sessions?${q}`)
      .then((r) => live && (setSessions(r.sessions), setError(null)))
      .catch((e: unknown) => live && setError(e));
    return () => void (live = false);
  }, [room, status, tick]);

  return (
    <section class="card" aria-labelledby="sessions-title">
      <div class="row session-list-head">
        <h2 id="sessions-title">Sessions</h2>
        <label for="filter-room">Room</label>
        <input id="filter-room" value={room} placeholder="all rooms" size={14} onChange={(e) => onRoom(e.currentTarget.value.trim())} />
        <label for="filter-status">Status</label>
        <select id="filter-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          <option value="">any</option>
          <option value="running">running</option>
          <option value="ended">ended</option>
        </select>
        <button type="button" class="secondary" onClick={() => setTick((t) => t + 1)}>
          Refresh
        </button>
      </div>
      {error !== null && (
        <p class="error" role="alert">
          {errorText(error)}
        </p>
      )}
      {sessions?.length === 0 && <p class="muted">No sessions{room ? ` in room ${room}` : ''}.</p>}
      {sessions && sessions.length > 0 && <SessionTable sessions={sessions} names={names} room={room} />}
    </section>
  );
}

function SessionTable({ sessions, names, room }: { sessions: SessionInfo[]; names: Map<string, string>; room: string }) {
  return (
    <div class="session-table-wrap">
      <table data-testid="sessions">
        <caption class="visually-hidden">Sessions, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Session</th>
            <th scope="col">Room / stream</th>
            <th scope="col">Expected subject</th>
            <th scope="col">Status</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">
              <span class="visually-hidden">View</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.sessionId}>
              <th scope="row">
                <a href={href('sessions', { session: s.sessionId, room: room || undefined })}>{s.sessionId}</a>
              </th>
              <td>
                {s.room} / {s.stream}
              </td>
              <td>{s.expectedSubjectId ? (names.get(s.expectedSubjectId) ?? s.expectedSubjectId) : '—'}</td>
              <td>
                <span class={`status ${s.status === 'running' ? 'ok' : ''}`}>{s.status === 'running' ? 'live' : 'ended'}</span>
              </td>
              <td>{new Date(s.startedMs).toLocaleString()}</td>
              <td>{clock((s.endedMs ?? Date.now()) - s.startedMs)}</td>
              <td>
                <a href={href('sessions', { session: s.sessionId, room: room || undefined })} aria-label={`${s.status === 'running' ? 'Watch live' : 'Report of'} ${s.sessionId}`}>
                  {s.status === 'running' ? 'Watch live' : 'Report'}
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
