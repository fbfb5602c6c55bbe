import { ANALYZER_NAMES } from '@lookout/contracts';
import { getPath, NumberField, TriStateField, type FieldProps } from './settings-fields';

type Props = Omit<FieldProps, 'path'>;

const WHAT: Record<string, string> = {
  landmarks: '68 face landmarks',
  pose: 'head pose, looking at camera',
  eyes: 'eyes open or closed',
  expression: 'dominant expression',
  liveness: 'anti-spoofing',
  text: 'text in view (notes, screens)',
  crops: 'aligned crops for identity',
};

/** The detector's optional analyzers: on/off and how often each runs per stream. */
export function SettingsAnalyzers(p: Props) {
  return (
    <section class="card" aria-labelledby="analyzers-title">
      <h2 id="analyzers-title">Analyzers</h2>
      <p class="muted settings-hint">Face detection always runs. An interval of 0 runs on every sampled frame.</p>
      <table class="settings-analyzers">
        <thead>
          <tr>
            <th scope="col">Analyzer</th>
            <th scope="col">State</th>
            <th scope="col">Interval (ms)</th>
          </tr>
        </thead>
        <tbody>
          {ANALYZER_NAMES.map((name) => (
            <tr key={name}>
              <th scope="row">
                {name} <span class="muted settings-what">{WHAT[name]}</span>
              </th>
              <td>
                <TriStateField {...p} path={['analyzers', name, 'enabled']} label={`${name}: state`} hideLabel />
              </td>
              <td>
                <NumberField {...p} path={['analyzers', name, 'intervalMs']} label={`${name}: interval (ms)`} hideLabel min={0} max={3_600_000} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Face size, "looking at camera" limits, liveness threshold, recognition events. */
export function SettingsDetection(p: Props) {
  // The API takes both limits or neither: one set makes the other required.
  const looking = getPath(p.cfg, ['lookingAtCamera']) !== undefined;
  return (
    <section class="card" aria-labelledby="detection-title">
      <h2 id="detection-title">Detection and recognition</h2>
      <div class="settings-grid">
        <NumberField {...p} path={['minFaceSize']} label="Smallest face (px)" min={0} max={4096} step="any" />
        <NumberField {...p} path={['lookingAtCamera', 'maxYawDeg']} label="Looking at camera: max |yaw| (°)" min={0} max={90} step="any" required={looking} />
        <NumberField {...p} path={['lookingAtCamera', 'maxPitchDeg']} label="Looking at camera: max |pitch| (°)" min={0} max={90} step="any" required={looking} />
        <NumberField {...p} path={['livenessThreshold']} label="Live from liveness score" min={0} max={1} step="any" />
        <TriStateField {...p} path={['recognition', 'enabled']} label="Recognition events" />
        <NumberField {...p} path={['recognition', 'cooldownMs']} label="Recognition cooldown (ms)" min={0} max={86_400_000} />
        <TriStateField {...p} path={['recognition', 'rejectUnknown']} label="REJECT events for unknown faces" />
      </div>
    </section>
  );
}
