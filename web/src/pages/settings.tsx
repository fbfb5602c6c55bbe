import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { href } from '../lib/route';
import { errorText } from '../lib/upload';
import { SettingsRoomConfig } from '../components/settings-room-config';
import { SettingsSampleRate } from '../components/settings-sample-rate';
import '../components/settings-page.css';

/** Per-room settings (`?room=`): sample rate, analyzers and cadences, rule thresholds. */
export function SettingsPage({ params }: { params: URLSearchParams }) {
  const room = params.get('room') ?? '';
  return (
    <>
      <h1>Settings{room && <> · {room}</>}</h1>
      <div class="card settings-top">
        <RoomPicker room={room} />
        {room && <SettingsSampleRate key={`fps-${room}`} room={room} />}
      </div>
      {room ? <SettingsRoomConfig key={room} room={room} /> : <p class="card">Choose a room to see and change its settings.</p>}
    </>
  );
}

/** Rooms that exist on an SFU; any other id may still be typed (its config can be set ahead). */
function RoomPicker({ room }: { room: string }) {
  const [draft, setDraft] = useState(room);
  const [rooms, setRooms] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => setDraft(room), [room]);
  useEffect(() => {
    api<{ rooms: Array<{ room: string }> }>('/rooms').then(
      (r) => setRooms(r.rooms.map((x) => x.room)),
      (e: unknown) => setError(e),
    );
  }, []);
  return (
    <form
      class="settings-picker"
      aria-label="Room"
      onSubmit={(e) => {
        e.preventDefault();
        location.hash = href('settings', { room: draft.trim() });
      }}
    >
      <label for="settings-room">Room</label>
      <input id="settings-room" list="settings-rooms" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} required pattern="[A-Za-z0-9_\-]{1,64}" size={16} />
      <datalist id="settings-rooms">
        {rooms.map((r) => (
          <option value={r} />
        ))}
      </datalist>
      <button type="submit">Open</button>
      {error !== null && (
        <span class="error" role="alert">
          {errorText(error)}
        </span>
      )}
    </form>
  );
}
