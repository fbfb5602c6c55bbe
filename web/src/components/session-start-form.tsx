import { useEffect, useState } from 'preact/hooks';
import type { SessionInfo, SubjectSummary } from '@lookout/contracts';
import { api } from '../lib/api';
import { href } from '../lib/route';
import { errorField, errorText } from '../lib/upload';

/** Starts a session on a stream (optionally expecting one gallery subject), then opens its live view. */
export function SessionStartForm({ room: initialRoom }: { room: string }) {
  const [room, setRoom] = useState(initialRoom);
  const [stream, setStream] = useState('');
  const [expected, setExpected] = useState('');
  const [rooms, setRooms] = useState<string[]>([]);
  const [subjects, setSubjects] = useState<SubjectSummary[]>([]);
  const [error, setError] = useState<unknown>(null);
  const bad = errorField(error);

  useEffect(() => {
    // Suggestions only: the form works without them.
    api<{ rooms: Array<{ room: string }> }>('/rooms').then((r) => setRooms(r.rooms.map((x) => x.room)), () => undefined);
    api<{ subjects: SubjectSummary[] }>('/gallery/subjects?limit=1000').then((r) => setSubjects(r.subjects), () => undefined);
  }, []);

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      const s = await api<SessionInfo>('/sessions', { json: { room, stream, ...(expected ? { expectedSubjectId: expected } : {}) } });
      location.hash = href('sessions', { session: s.sessionId, room });
    } catch (err) {
      setError(err);
    }
  }

  return (
    <form class="card session-start" onSubmit={(e) => void submit(e)} aria-labelledby="start-title">
      <h2 id="start-title">Start a session</h2>
      <div class="row">
        <label for="start-room">Room</label>
        <input id="start-room" list="start-rooms" value={room} onInput={(e) => setRoom(e.currentTarget.value)} required pattern="[A-Za-z0-9_\-]{1,64}" size={12} aria-invalid={bad === 'room'} />
        <datalist id="start-rooms">
          {rooms.map((r) => (
            <option value={r} />
          ))}
        </datalist>
        <label for="start-stream">Stream</label>
        <input id="start-stream" value={stream} onInput={(e) => setStream(e.currentTarget.value)} required pattern="[A-Za-z0-9_\-]{1,64}" size={12} aria-invalid={bad === 'stream'} />
        <label for="start-expected">Expected person</label>
        <select id="start-expected" value={expected} onChange={(e) => setExpected(e.currentTarget.value)} aria-invalid={bad === 'expectedSubjectId'}>
          <option value="">nobody in particular</option>
          {subjects.map((s) => (
            <option value={s.subjectId}>{s.name}</option>
          ))}
        </select>
        <button type="submit">Start</button>
      </div>
      {error !== null && (
        <p class="error" role="alert">
          {errorText(error)}
        </p>
      )}
    </form>
  );
}
