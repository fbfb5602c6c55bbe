import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { errorText } from '../lib/upload';

/**
 * Frames per second the SFU samples from each stream of the room. Applied at once on the
 * room's SFU; the field starts with the room's current rate when the room exists.
 */
export function SettingsSampleRate({ room }: { room: string }) {
  const [fps, setFps] = useState('');
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api<{ sampleFps: number }>(`/rooms/${room}`)
      .then((r) => setFps((current) => current || String(r.sampleFps)))
      .catch(() => undefined); // a room not created yet has no rate to show
  }, [room]);

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    setStatus('');
    try {
      const r = await api<{ fps: number }>(`/rooms/${room}/sample-rate`, { method: 'PUT', json: { fps: Number(fps) } });
      setStatus(`Sampling ${r.fps} frames per second from each stream of ${room}.`);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <form class="settings-fps" onSubmit={(e) => void submit(e)} aria-label="Sample rate">
      <label for="sample-fps">Sample rate (frames per second)</label>
      <input id="sample-fps" type="number" min={0.1} max={30} step="any" value={fps} placeholder="5" required onInput={(e) => setFps(e.currentTarget.value)} aria-describedby="fps-hint" aria-invalid={error !== null} />
      <button type="submit">Apply</button>
      <span id="fps-hint" class="muted settings-hint">
        0.1–30 per stream; default <code>SAMPLE_FPS</code> (5).
      </span>
      <span role="status" aria-live="polite" class="settings-ok">
        {status}
      </span>
      {error !== null && (
        <span class="error" role="alert">
          {errorText(error)}
        </span>
      )}
    </form>
  );
}
