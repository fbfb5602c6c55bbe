import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { errorField, errorText } from '../lib/upload';
import { SettingsAnalyzers, SettingsDetection } from './settings-analyzers';
import { fieldId, setPath, type Config, type Path } from './settings-fields';
import { SettingsRules } from './settings-rules';

/** The stored config and the draft being edited; `save` PUTs the draft (it replaces the whole config). */
function useConfigDraft(room: string) {
  const [cfg, setCfg] = useState<Config | null>(null);
  const [dirty, setDirty] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  // The latest draft, read by save and by every field's change: updated synchronously,
  // so two changes before the next render (or a change then Enter) both count.
  const draft = useRef<Config>({});
  const show = (c: Config) => ((draft.current = c), setCfg(c));

  useEffect(() => {
    let live = true;
    setCfg(null);
    api<Config>(`/rooms/${room}/config`)
      .then((c) => live && (show(c), setDirty(false), setError(null)))
      .catch((e: unknown) => live && setError(e));
    return () => void (live = false);
  }, [room, reload]);

  const change = (path: Path, value: unknown) => (show(setPath(draft.current, path, value)), setDirty(true));
  const save = async (): Promise<boolean> => {
    setError(null);
    try {
      show(await api<Config>(`/rooms/${room}/config`, { method: 'PUT', json: draft.current }));
      setDirty(false);
      return true;
    } catch (err) {
      setError(err);
      // Take the keyboard to the field the API refused.
      const field = errorField(err);
      if (field) document.getElementById(fieldId(field.split('/')))?.focus();
      return false;
    }
  };
  return { cfg, dirty, error, change, save, discard: () => setReload((n) => n + 1) };
}

/**
 * The room's analysis config (analyzers, detection, rule thresholds), edited as one form.
 * Detectors and reid follow the KV entry the API writes, so a save applies live.
 */
export function SettingsRoomConfig({ room }: { room: string }) {
  const { cfg, dirty, error, change, save, discard } = useConfigDraft(room);
  const [status, setStatus] = useState('');
  const problem = error !== null && (
    <p class="error" role="alert">
      {errorText(error)}
    </p>
  );
  if (!cfg) return problem || <p role="status">Loading the settings of {room}…</p>;
  const fields = { cfg, onChange: (p: Path, v: unknown) => (change(p, v), setStatus('')), badField: errorField(error) };
  const submit = async (e: Event) => {
    e.preventDefault();
    if (await save()) setStatus(`Saved the settings of ${room}; detectors and reid use them from the next frame.`);
  };
  return (
    <form onSubmit={(e) => void submit(e)} aria-label={`Analysis settings of ${room}`} data-testid="room-config">
      <div class="settings-layout">
        <div>
          <SettingsAnalyzers {...fields} />
          <SettingsDetection {...fields} />
        </div>
        <SettingsRules {...fields} />
      </div>
      <div class="settings-bar">
        <button type="submit" disabled={!dirty}>
          Save settings
        </button>
        <button type="button" class="secondary" disabled={!dirty} onClick={discard}>
          Discard changes
        </button>
        <span class="muted">{dirty ? 'Unsaved changes' : 'No unsaved changes'}</span>
        <span role="status" aria-live="polite" class="settings-ok">
          {status}
        </span>
        {problem}
      </div>
    </form>
  );
}
