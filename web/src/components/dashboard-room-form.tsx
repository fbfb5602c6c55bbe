import { ID_PATTERN } from '@lookout/contracts';
import { useState } from 'preact/hooks';
import { href } from '../lib/route';

/** Asks for a room when the link names none; used by the Publish page and the dashboard. */
export function RoomForm({ page, hint }: { page: string; hint: string }) {
  const [room, setRoom] = useState('');
  return (
    <form
      class="card row"
      onSubmit={(e) => {
        e.preventDefault();
        location.hash = href(page, { room: room.trim() });
      }}
    >
      <label for={`${page}-room`}>Room</label>
      <input id={`${page}-room`} value={room} onInput={(e) => setRoom(e.currentTarget.value)} pattern={ID_PATTERN.slice(1, -1)} required aria-describedby={`${page}-room-hint`} />
      <button type="submit">Open</button>
      <span id={`${page}-room-hint`} class="muted">
        {hint}
      </span>
    </form>
  );
}

/** Shown when there is neither a token in the link nor an admin key on this machine. */
export function NeedCredential({ role }: { role: 'publisher' | 'viewer' }) {
  return (
    <p class="card" role="alert">
      This page needs a {role} token in its link (<code>&amp;token=…</code>) or an admin key: sign in above.
    </p>
  );
}
