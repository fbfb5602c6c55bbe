import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { errorText } from '../lib/upload';

/**
 * Ends a running session after a second, explicit click: ending releases the stream and
 * closes its open episodes, which cannot be taken back.
 */
export function SessionEndButton({ id, onEnded }: { id: string; onEnded: () => void }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirm.current?.focus();
  }, [asking]);

  async function end() {
    setBusy(true);
    setError(null);
    try {
      await api(`/sessions/${id}/end`, { method: 'POST' });
      setAsking(false);
      onEnded();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <span class="session-end" role="group" aria-label="End the session">
      {!asking ? (
        <button type="button" class="danger" onClick={() => setAsking(true)}>
          End session
        </button>
      ) : (
        <>
          <span id="end-q">End it now? Open episodes close.</span>
          <button type="button" class="danger" ref={confirm} disabled={busy} onClick={() => void end()} aria-describedby="end-q">
            Yes, end session
          </button>
          <button type="button" class="secondary" onClick={() => setAsking(false)}>
            Keep running
          </button>
        </>
      )}
      {error !== null && (
        <span class="error" role="alert">
          {errorText(error)}
        </span>
      )}
    </span>
  );
}
