import type { SessionReport } from '@lookout/contracts';
import { attendanceSection } from './report-html-attendance.js';
import { bandChart, barChart, CHART_CSS, elapsedLabel, escapeXml as esc, lineChart, type TimeDomain } from './svg-chart.js';

const EXPRESSION_COLORS: Record<string, string> = {
  neutral: '#b0b7c3',
  happy: '#f2c14e',
  surprise: '#f78154',
  sad: '#4d9de0',
  angry: '#e15554',
  disgust: '#3bb273',
  fear: '#7768ae',
};
const SEVERITY_COLORS: Record<string, string> = { critical: '#d62828', warning: '#f08c00', info: '#4d9de0' };

/**
 * The report as one self-contained printable page: inline CSS and SVG, no script, no
 * external resource (served with a CSP that forbids them). Every value from users or
 * the gallery (metadata, names, messages) is escaped.
 */
export function reportHtml(r: SessionReport): string {
  const s = r.session;
  const title = `Session report ${s.sessionId}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${PAGE_CSS}${CHART_CSS}</style></head>
<body><main>
<h1>${esc(title)}</h1>
${s.status === 'running' ? '<p class="note">The session is still running: this is the summary so far.</p>' : ''}
${overview(r)}
${scoresTable(r)}
${charts(r)}
${alertsTable(r)}
${gapsTable(r)}
${attendanceSection(r, domainOf(r).startMs)}
${identitySection(r)}
<footer>Generated ${esc(iso(r.generatedMs))} from the LOOKOUT_EVENTS stream. Times on the charts are elapsed from the first analysed second (${esc(iso(domainOf(r).startMs))}).</footer>
</main></body></html>`;
}

/** The time span every chart shares: the analysed seconds, the episodes and the gaps. */
export function domainOf(r: SessionReport): TimeDomain {
  const times = [
    ...r.timelines.engagement.map(([t]) => t),
    ...r.timelines.expression.map(([t]) => t),
    ...r.alerts.flatMap((a) => [a.startMs, a.endMs ?? a.startMs]),
    // A gap is part of the picture: the charts show it as the empty span it was.
    ...r.gaps.flatMap((g) => [g.startMs, (g.endMs ?? g.startMs) - 1000]),
  ];
  if (times.length === 0) return { startMs: r.session.startedMs, endMs: r.session.startedMs + Math.max(1000, r.durationMs) };
  // + 1 s: a point at second t stands for the whole second. (reduce: a long session has too many points to spread.)
  return { startMs: times.reduce((a, b) => Math.min(a, b)), endMs: times.reduce((a, b) => Math.max(a, b)) + 1000 };
}

function overview(r: SessionReport): string {
  const s = r.session;
  const rows: Array<[string, string]> = [
    ['Room / stream', `${s.room} / ${s.stream}`],
    ['Status', s.status],
    ['Started', iso(s.startedMs)],
    ['Ended', s.endedMs !== undefined ? iso(s.endedMs) : '—'],
    ['Duration', elapsedLabel(r.durationMs)],
    ['Frames analysed', String(r.framesAnalysed)],
    ['Principal present', r.principalPresent === null ? '—' : `${Math.round(r.principalPresent * 100)}% of analysed frames`],
    ['Analysed', r.analysedShare === null ? '—' : `${Math.round(r.analysedShare * 100)}% of the session (${r.gaps.length} gap${r.gaps.length === 1 ? '' : 's'})`],
    ['Expected subject', s.expectedSubjectId ?? '—'],
    ['Identity verified', r.identity.verified === null ? '— (no expected subject)' : r.identity.verified ? 'yes' : 'NO'],
  ];
  if (s.streamEnd && !s.streamEnd.ok) rows.push(['Stream end', `reid did not confirm (${s.streamEnd.error ?? 'unknown'}): open episodes close with the next frame`]);
  for (const [k, v] of Object.entries(s.metadata)) rows.push([`Metadata: ${k}`, String(v)]);
  return `<section><h2>Overview</h2><table class="kv">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table></section>`;
}

function scoresTable(r: SessionReport): string {
  const names: Array<[keyof SessionReport['scores'], string]> = [
    ['engagement', 'Engagement'],
    ['eyeContact', 'Eye contact'],
    ['positivity', 'Positivity'],
    ['postureStability', 'Posture stability'],
    ['confidence', 'Detection confidence'],
  ];
  const rows = names.map(([key, label]) => {
    const v = r.scores[key];
    const cells = v ? [v.mean, v.min, v.p10, v.p90, v.max].map((x) => `<td>${x.toFixed(1)}</td>`).join('') : '<td colspan="5">no data</td>';
    return `<tr><th>${label}</th>${cells}</tr>`;
  });
  return `<section><h2>Scores (0–100, over per-second means)</h2><table class="grid"><tr><th></th><th>mean</th><th>min</th><th>p10</th><th>p90</th><th>max</th></tr>${rows.join('')}</table></section>`;
}

function charts(r: SessionReport): string {
  const d = domainOf(r);
  // A value stands for its whole second: plot it mid-second, in line with the expression cells.
  const mid = (points: Array<[number, number | null]>) => points.map(([t, v]): [number, number | null] => [t + 500, v]);
  const lines = lineChart(
    d,
    [
      { name: 'Engagement', color: '#1f77b4', points: mid(r.timelines.engagement) },
      { name: 'Eye contact', color: '#2ca02c', points: mid(r.timelines.eyeContact) },
      { name: 'Positivity', color: '#ff7f0e', points: mid(r.timelines.positivity), dashed: true },
    ],
    'Engagement, eye contact and positivity over time',
  );
  const band = bandChart(d, r.timelines.expression, EXPRESSION_COLORS, 'Dominant expression per second');
  const kinds = [...new Set(r.alerts.map((a) => a.kind))].sort();
  const bars = barChart(
    d,
    kinds.map((kind) => ({
      name: kind,
      bars: r.alerts.filter((a) => a.kind === kind).map((a) => ({ startMs: a.startMs, endMs: a.endMs, color: SEVERITY_COLORS[a.severity] ?? '#888', title: a.message })),
    })),
    'Alert episodes over time',
  );
  return `<section class="charts"><h2>Timelines</h2>
<figure><figcaption>Engagement, eye contact and positivity</figcaption>${lines}</figure>
<figure><figcaption>Dominant expression</figcaption>${band}</figure>
<figure><figcaption>Alert episodes (hatched: still open)</figcaption>${bars}</figure></section>`;
}

function alertsTable(r: SessionReport): string {
  if (r.alerts.length === 0) return '<section><h2>Alert episodes</h2><p>None.</p></section>';
  const t0 = domainOf(r).startMs;
  const rows = r.alerts.map((a) => {
    const end = a.endMs === null ? 'open' : elapsedLabel(a.endMs - t0);
    const length = a.endMs === null ? '—' : `${((a.endMs - a.startMs) / 1000).toFixed(1)} s`;
    const who = a.from || a.to ? `${personName(a.from)} → ${personName(a.to)}` : '';
    const detail = who && !a.message.includes(who) ? `<br><small>${esc(who)}</small>` : '';
    return `<tr class="${esc(a.severity)}"><td>${esc(a.kind)}</td><td>${esc(a.severity)}</td><td>${elapsedLabel(a.startMs - t0)}</td><td>${end}</td><td>${length}</td><td>${esc(a.message)}${detail}</td></tr>`;
  });
  return `<section><h2>Alert episodes</h2><table class="grid"><tr><th>kind</th><th>severity</th><th>start</th><th>end</th><th>length</th><th>message</th></tr>${rows.join('')}</table></section>`;
}

/** Spans with no analysis: nothing is known of them, so they are listed rather than averaged away. */
function gapsTable(r: SessionReport): string {
  if (r.gaps.length === 0) return '';
  const t0 = domainOf(r).startMs;
  const rows = r.gaps.map((g) => {
    const end = g.endMs === null ? 'ongoing' : elapsedLabel(g.endMs - t0);
    const length = g.endMs === null ? '—' : `${((g.endMs - g.startMs) / 1000).toFixed(0)} s`;
    return `<tr><td>${elapsedLabel(g.startMs - t0)}</td><td>${end}</td><td>${length}</td></tr>`;
  });
  return `<section><h2>Gaps in analysis</h2><p>No frame of the stream was analysed in these spans (the camera or publisher was gone, the stream stalled, or a service was down): they count neither as presence nor as absence.</p><table class="grid"><tr><th>from</th><th>to</th><th>length</th></tr>${rows.join('')}</table></section>`;
}

function identitySection(r: SessionReport): string {
  const id = r.identity;
  const rows = id.recognized.map((g) => `<tr><td>${esc(g.name ?? g.subjectId ?? 'unknown person')}</td><td>${esc(g.subjectId ?? '—')}</td><td>${esc(g.decision)}</td><td>${g.count}</td><td>${g.bestSimilarity.toFixed(3)}</td><td>${esc(iso(g.firstMs))}</td></tr>`);
  const table = rows.length
    ? `<table class="grid"><tr><th>name</th><th>subject</th><th>decision</th><th>events</th><th>best similarity</th><th>first</th></tr>${rows.join('')}</table>`
    : '<p>No recognition events.</p>';
  return `<section><h2>Identity verification</h2><p>Expected subject: <b>${esc(id.expectedSubjectId ?? 'none')}</b>; identity changes: <b>${id.changes}</b>; verified: <b>${id.verified === null ? '—' : id.verified ? 'yes' : 'no'}</b>.</p>${table}</section>`;
}

function personName(p: SessionReport['alerts'][number]['from']): string {
  if (!p) return '?';
  return p.name ?? p.subjectId ?? 'unknown person';
}

const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

const PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; color: #111; margin: 0; background: #fff; }
main { max-width: 980px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 17px; margin: 24px 0 8px; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; }
table.kv th { text-align: left; padding: 2px 16px 2px 0; font-weight: 600; }
table.grid { width: 100%; }
table.grid th, table.grid td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
tr.critical td:first-child { border-left: 4px solid #d62828; }
tr.warning td:first-child { border-left: 4px solid #f08c00; }
tr.info td:first-child { border-left: 4px solid #4d9de0; }
figure { margin: 8px 0 16px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
.note { background: #fff3cd; padding: 6px 10px; }
footer { margin-top: 24px; color: #666; font-size: 12px; }
@page { size: A4; margin: 14mm; }
@media print {
  main { max-width: none; padding: 0; }
  section, figure, tr { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
