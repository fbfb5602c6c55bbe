/**
 * Inline SVG charts for the printable report: a time axis shared by every chart, score
 * lines, a band of labelled seconds and episode bars. Plain strings, no DOM and no script,
 * so the page prints anywhere and needs nothing from outside.
 */

export interface TimeDomain {
  startMs: number;
  endMs: number;
}

export interface LineSeries {
  name: string;
  color: string;
  points: Array<[number, number | null]>;
  dashed?: boolean;
}

export interface Bar {
  startMs: number;
  /** null: still open, drawn to the end of the domain. */
  endMs: number | null;
  color: string;
  title: string;
}

const WIDTH = 900;
// Wide enough for the longest alert kind as a row label.
const LEFT = 118;
const RIGHT = 16;
const AXIS_H = 22;
const PLOT_W = WIDTH - LEFT - RIGHT;
/** Tick steps (seconds) that read well on an elapsed-time axis. */
const STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400];
const MAX_TICKS = 10;

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

/** x position of a time, clamped to the plot. */
function xOf(d: TimeDomain, ms: number): number {
  const span = Math.max(1, d.endMs - d.startMs);
  return LEFT + (Math.min(Math.max(ms, d.startMs), d.endMs) - d.startMs) * (PLOT_W / span);
}

/** "m:ss" (or "h:mm:ss") since the start of the domain. */
export function elapsedLabel(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Tick offsets (ms from the start) at the smallest readable step giving at most MAX_TICKS. */
export function timeTicks(d: TimeDomain): number[] {
  const spanS = Math.max(1, (d.endMs - d.startMs) / 1000);
  const step = STEPS_S.find((s) => spanS / s <= MAX_TICKS) ?? Math.ceil(spanS / MAX_TICKS / 3600) * 3600;
  const ticks: number[] = [];
  for (let t = 0; t <= spanS + 1e-9; t += step) ticks.push(t * 1000);
  return ticks;
}

function timeAxis(d: TimeDomain, y: number, gridTop: number): string {
  const parts = [`<line x1="${LEFT}" y1="${y}" x2="${WIDTH - RIGHT}" y2="${y}" class="axis"/>`];
  for (const t of timeTicks(d)) {
    const x = fmt(xOf(d, d.startMs + t));
    parts.push(`<line x1="${x}" y1="${gridTop}" x2="${x}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${x}" y="${y + 15}" text-anchor="middle" class="tick">${elapsedLabel(t)}</text>`);
  }
  return parts.join('');
}

function svg(height: number, label: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="${escapeXml(label)}">${body}</svg>`;
}

/** Polylines broken where a value is missing, so a gap reads as "no data", not as a slope. */
function segments(d: TimeDomain, points: Array<[number, number | null]>, yOf: (v: number) => number): string[] {
  const out: string[] = [];
  let cur: string[] = [];
  for (const [t, v] of points) {
    if (v === null) {
      if (cur.length) out.push(cur.join(' '));
      cur = [];
    } else cur.push(`${fmt(xOf(d, t))},${fmt(yOf(v))}`);
  }
  if (cur.length) out.push(cur.join(' '));
  return out;
}

/** Scores over time on a 0–100 scale, one line per series, with a legend. */
export function lineChart(d: TimeDomain, series: LineSeries[], label: string): string {
  const top = 24;
  const plotH = 180;
  const bottom = top + plotH;
  const yOf = (v: number) => bottom - (Math.min(100, Math.max(0, v)) / 100) * plotH;
  const parts = [timeAxis(d, bottom, top)];
  for (const v of [0, 25, 50, 75, 100]) {
    parts.push(`<line x1="${LEFT}" y1="${yOf(v)}" x2="${WIDTH - RIGHT}" y2="${yOf(v)}" class="grid"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${yOf(v) + 4}" text-anchor="end" class="tick">${v}</text>`);
  }
  series.forEach((s, i) => {
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    for (const pts of segments(d, s.points, yOf)) {
      // A single point would be an invisible polyline: draw it as a dot.
      if (!pts.includes(' ')) {
        const [x, y] = pts.split(',');
        parts.push(`<circle cx="${x}" cy="${y}" r="2" fill="${s.color}"/>`);
      } else parts.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="1.8"${dash}/>`);
    }
    const lx = LEFT + i * 140;
    parts.push(`<line x1="${lx}" y1="10" x2="${lx + 22}" y2="10" stroke="${s.color}" stroke-width="3"${dash}/>`);
    parts.push(`<text x="${lx + 28}" y="14" class="legend">${escapeXml(s.name)}</text>`);
  });
  return svg(bottom + AXIS_H, label, parts.join(''));
}

/** One coloured cell per labelled second (e.g. the dominant expression), with a legend. */
export function bandChart(d: TimeDomain, cells: Array<[number, string]>, colors: Record<string, string>, label: string): string {
  const top = 28;
  const h = 34;
  const parts = [timeAxis(d, top + h, top)];
  const cellW = Math.max(1, (PLOT_W * 1000) / Math.max(1000, d.endMs - d.startMs));
  for (const [t, name] of cells) {
    parts.push(`<rect x="${fmt(xOf(d, t))}" y="${top}" width="${fmt(cellW)}" height="${h}" fill="${colors[name] ?? '#999'}"><title>${escapeXml(name)}</title></rect>`);
  }
  const used = [...new Set(cells.map(([, n]) => n))].sort();
  used.forEach((name, i) => {
    const lx = LEFT + i * 110;
    parts.push(`<rect x="${lx}" y="4" width="14" height="12" fill="${colors[name] ?? '#999'}"/><text x="${lx + 19}" y="14" class="legend">${escapeXml(name)}</text>`);
  });
  return svg(top + h + AXIS_H, label, parts.join(''));
}

/** Episodes as bars, one row per group (e.g. alert kind); open ones run to the end, hatched. */
export function barChart(d: TimeDomain, rows: Array<{ name: string; bars: Bar[] }>, label: string): string {
  const top = 8;
  const rowH = 22;
  const bottom = top + Math.max(1, rows.length) * rowH;
  const parts = [
    '<defs><pattern id="open" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="6" fill="#000" opacity="0.35"/></pattern></defs>',
    timeAxis(d, bottom, top),
  ];
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    parts.push(`<text x="${LEFT - 6}" y="${y + 15}" text-anchor="end" class="tick">${escapeXml(row.name)}</text>`);
    for (const b of row.bars) {
      const x0 = xOf(d, b.startMs);
      const w = Math.max(3, xOf(d, b.endMs ?? d.endMs) - x0);
      const rect = `x="${fmt(x0)}" y="${y + 3}" width="${fmt(w)}" height="${rowH - 6}"`;
      parts.push(`<rect ${rect} fill="${b.color}"><title>${escapeXml(b.title)}</title></rect>`);
      if (b.endMs === null) parts.push(`<rect ${rect} fill="url(#open)"/>`);
    }
  });
  if (rows.length === 0) parts.push(`<text x="${LEFT + 8}" y="${top + 15}" class="tick">none</text>`);
  return svg(bottom + AXIS_H, label, parts.join(''));
}

/** Styles the charts' classes; the page includes it once. */
export const CHART_CSS = `
svg .axis { stroke: #333; stroke-width: 1; }
svg .grid { stroke: #ddd; stroke-width: 0.6; }
svg .tick { font: 11px sans-serif; fill: #444; }
svg .legend { font: 12px sans-serif; fill: #222; }
`;
