import { useState } from 'preact/hooks';
import { SessionDetail } from '../components/session-detail';
import { SessionList } from '../components/session-list';
import { SessionStartForm } from '../components/session-start-form';
import '../components/session-page.css';

/** Sessions: the list (and a form to start one), or one session's live view / report (`?session=`). */
export function SessionsPage({ params }: { params: URLSearchParams }) {
  const id = params.get('session');
  const [room, setRoom] = useState(params.get('room') ?? '');
  if (id) return <SessionDetail id={id} />;
  return (
    <>
      <h1>Sessions</h1>
      <div class="no-print">
        <SessionStartForm room={room} />
      </div>
      <SessionList room={room} onRoom={setRoom} />
    </>
  );
}
