// Server output must not change with the machine's time zone or language: the report
// (JSON and printable HTML) and the orders of API listings are computed in fresh Node
// processes under unusual TZ/LANG settings and compared byte for byte. TZ can be changed
// inside a process, the ICU default locale cannot: hence child processes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginBuild } from 'esbuild';

const GATEWAY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ORDER = path.resolve(GATEWAY, '../../packages/service-kit/src/order.ts');
const T0 = 1_700_000_000_000; // 2023-11-14 22:13:20 UTC

// Runs in the child: builds a report from a small session and sorts a few lists.
const ENTRY = `
import { buildReport } from './src/sessions/report.ts';
import { reportHtml } from './src/sessions/report-html.ts';
import { byCodeUnits, byName } from '@lookout/service-kit';
const T0 = ${T0};
const base = { room: 'exam', stream: 'cam', sessionId: 's1' };
const session = { ...base, metadata: { note: 'x' }, status: 'ended', startedMs: T0 - 2000, endedMs: T0 + 6000 };
const metrics = [0, 1, 2, 3].map((i) => ({ ...base, second: T0 / 1000 + i, frames: 5, facesMean: 1, principalPresent: 1, latencyMs: 40,
  scores: { eyeContact: 60.25 + i, engagement: 1234.5 / 25, positivity: 50, postureStability: 90, confidence: 95 }, expressions: { neutral: 3, happy: 1, surprise: 1 } }));
// Same start: ordered by id, where da_DK's collation would put "aa…" after "z…".
const alert = (id, kind) => ({ ...base, id, kind, severity: 'info', state: 'open', startMs: T0 + 1500, startSeq: 30, message: kind });
const alerts = [alert('exam.cam.z', 'looking_away'), alert('exam.cam.aa', 'no_face')];
const recognitions = [{ ...base, id: 'r1', seq: 1, captureMs: T0 + 500, trackId: 't1', decision: 'PASS', subjectId: 'obama', name: 'Barack Obama', similarity: 0.61234 }];
const report = buildReport(session, { metrics, alerts, recognitions }, T0 + 10_000);
const ids = ['aa-room', 'ab', 'z', 'A1', 'a1', 'a-1', 'a_1'];
const names = ['Zoë', 'Aaron', 'Åsa', 'zed', 'Ängel', 'ada'];
process.stdout.write(JSON.stringify({
  report, html: reportHtml(report), ids: [...ids].sort(byCodeUnits), names: [...names].sort(byName),
  control: { local: new Date(T0).toString(), collated: [...ids].sort((a, b) => a.localeCompare(b)) },
}));
`;

const ENVS = [
  { TZ: 'UTC', LANG: 'C.UTF-8' },
  { TZ: 'Pacific/Chatham', LANG: 'de_DE.UTF-8' },
  { TZ: 'America/St_Johns', LANG: 'da_DK.UTF-8' },
];

describe('report and listings do not depend on TZ or LANG', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-locale-'));
  const script = path.join(dir, 'entry.mjs');
  type Out = { report: unknown; html: string; ids: string[]; names: string[]; control: { local: string; collated: string[] } };
  let outs: Out[] = [];

  beforeAll(async () => {
    const { build } = await import('esbuild');
    // The report needs only the kit's sort orders; the whole kit (pino, NATS) does not bundle into one file.
    const orderOnly = { name: 'order-only', setup: (b: PluginBuild) => b.onResolve({ filter: /^@lookout\/service-kit$/ }, () => ({ path: ORDER })) };
    const bundle = await build({ stdin: { contents: ENTRY, resolveDir: GATEWAY, loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'error', plugins: [orderOnly] });
    fs.writeFileSync(script, bundle.outputFiles[0]!.text);
    outs = ENVS.map((env) => {
      const r = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { ...process.env, ...env, LC_ALL: env.LANG } });
      if (r.status !== 0) throw new Error(`${JSON.stringify(env)}: ${r.stderr}`);
      return JSON.parse(r.stdout) as Out;
    });
  }, 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the settings took effect in the children (local time and localeCompare differ)', () => {
    expect(new Set(outs.map((o) => o.control.local)).size).toBe(ENVS.length);
    expect(outs[2]!.control.collated.indexOf('aa-room')).toBeGreaterThan(outs[2]!.control.collated.indexOf('z'));
  });

  it('gives the same report JSON and HTML, with times in UTC, under every setting', () => {
    for (const o of outs.slice(1)) {
      expect(o.report).toEqual(outs[0]!.report);
      expect(o.html).toBe(outs[0]!.html);
    }
    expect(outs[0]!.html).toContain('2023-11-14 22:13:18 UTC');
    expect(outs[0]!.html).toContain('<td>49.4</td>'); // a decimal point, not de_DE's comma
  });

  it('sorts ids by code units and names by the root collation, the same everywhere', () => {
    for (const o of outs) {
      expect(o.ids).toEqual(['A1', 'a-1', 'a1', 'a_1', 'aa-room', 'ab', 'z']);
      expect(o.names).toEqual(['Aaron', 'ada', 'Ängel', 'Åsa', 'zed', 'Zoë']);
    }
  });
});
