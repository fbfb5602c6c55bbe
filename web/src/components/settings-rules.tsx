import { ALERT_KINDS, DEFAULT_RULES, SEVERITIES, type AlertKind } from '@lookout/contracts';
import { fieldId, getPath, NumberField, type FieldProps } from './settings-fields';

type Props = Omit<FieldProps, 'path'>;

/** Each rule's own thresholds besides enabled/severity/frames: [key, label, min, max, step (1: integer)]. */
const EXTRA: Partial<Record<AlertKind, Array<[string, string, number, number, number | 'any']>>> = {
  looking_away: [
    ['yawDeg', '|yaw| above (°)', 0, 90, 'any'],
    ['pitchDeg', '|pitch| above (°)', 0, 90, 'any'],
  ],
  eyes_closed: [['ms', 'closed for (ms)', 1, 600_000, 1]],
  low_engagement: [['below', 'score below', 0, 100, 'any']],
  text_visible: [['minScore', 'text score from', 0, 1, 'any']],
};

const words = (kind: string) => kind.replaceAll('_', ' ');

/**
 * Alert rule thresholds of the room, one row per alert kind. Empty numbers mean reid's
 * default, shown as the placeholder; switches and severities show the value in force.
 */
export function SettingsRules(p: Props) {
  return (
    <section class="card settings-rules" aria-labelledby="rules-title">
      <h2 id="rules-title">Alert rules</h2>
      <p class="muted settings-hint">An episode opens after its condition held for “frames” analysed frames in a row. Empty fields use the default shown in grey.</p>
      <div class="settings-table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Alert</th>
              <th scope="col">On</th>
              <th scope="col">Severity</th>
              <th scope="col">Frames</th>
              <th scope="col">Thresholds</th>
            </tr>
          </thead>
          <tbody>
            {ALERT_KINDS.map((kind) => (
              <RuleRow key={kind} kind={kind} {...p} />
            ))}
          </tbody>
        </table>
      </div>
      <div class="settings-inline">
        <NumberField {...p} path={['rules', 'closeFrames']} label="Frames without the condition before an episode closes" min={1} max={10_000} placeholder={DEFAULT_RULES.closeFrames} />
      </div>
    </section>
  );
}

function RuleRow({ kind, ...p }: Props & { kind: AlertKind }) {
  const defaults = DEFAULT_RULES[kind] as unknown as Record<string, unknown>;
  const path = ['rules', kind];
  const current = (key: string) => getPath(p.cfg, [...path, key]) ?? defaults[key];
  const enabledId = fieldId([...path, 'enabled']);
  const severityId = fieldId([...path, 'severity']);
  return (
    <tr>
      <th scope="row">{words(kind)}</th>
      <td>
        <label for={enabledId} class="visually-hidden">
          {words(kind)}: on
        </label>
        <input id={enabledId} type="checkbox" checked={current('enabled') !== false} onChange={(e) => p.onChange([...path, 'enabled'], e.currentTarget.checked)} />
      </td>
      <td>
        <label for={severityId} class="visually-hidden">
          {words(kind)}: severity
        </label>
        <select id={severityId} value={String(current('severity'))} aria-invalid={p.badField === [...path, 'severity'].join('/')} onChange={(e) => p.onChange([...path, 'severity'], e.currentTarget.value)}>
          {SEVERITIES.map((s) => (
            <option value={s}>{s}</option>
          ))}
        </select>
      </td>
      <td>{'frames' in defaults && <NumberField {...p} path={[...path, 'frames']} label={`${words(kind)}: frames`} hideLabel min={1} max={10_000} placeholder={defaults.frames as number} />}</td>
      <td>
        <div class="settings-extra">
          {(EXTRA[kind] ?? []).map(([key, label, min, max, step]) => (
            <span key={key}>
              <NumberField {...p} path={[...path, key]} label={label} min={min} max={max} step={step} placeholder={defaults[key] as number} />
            </span>
          ))}
        </div>
      </td>
    </tr>
  );
}
