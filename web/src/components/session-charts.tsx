import { useMemo, useRef } from 'preact/hooks';
import type { SessionReport } from '@lookout/contracts';
import uPlot from 'uplot';
import { videoClock } from '../lib/job-progress';
import { ChartTimeline } from './chart-timeline';
import { alertColumns, alertLanes, expressionColumns, expressionLanes, expressionShares, reportRange, scoreColumns, SEVERITY_COLOURS } from './session-chart-data';

const SCORE_SERIES: uPlot.Series[] = [
  { label: 'Engagement', stroke: '#1f5fbf', width: 2, value: (_u, v) => (v === null ? '—' : v.toFixed(0)) },
  { label: 'Eye contact', stroke: '#1f7a3f', width: 2, value: (_u, v) => (v === null ? '—' : v.toFixed(0)) },
  { label: 'Positivity', stroke: '#b06a00', width: 1.5, dash: [6, 4], value: (_u, v) => (v === null ? '—' : v.toFixed(0)) },
];
const SCORE_SCALES: uPlot.Scales = { y: { range: [0, 100] } };
/** Every chart's y axis is this wide, so the plots of one report start at the same x. */
const Y_AXIS_PX = 110;
const SCORE_AXES: uPlot.Axis[] = [{ label: 'score', size: Y_AXIS_PX }];

/** A y axis whose ticks are the lanes' names (categorical data on a numeric scale). */
function laneAxis(names: string[]): uPlot.Axis[] {
  return [{ size: Y_AXIS_PX, splits: () => names.map((_, i) => i), values: (_u, splits) => splits.map((i) => names[i] ?? ''), grid: { show: false } }];
}

const laneScale = (n: number): uPlot.Scales => ({ y: { range: [-0.5, n - 0.5] } });

function summarise(name: string, s: SessionReport['scores']['engagement']): string {
  return s ? `${name} mean ${s.mean.toFixed(0)}, from ${s.min.toFixed(0)} to ${s.max.toFixed(0)}` : `${name}: no data`;
}

interface LaneChart {
  series: uPlot.Series[];
  axes: uPlot.Axis[];
  scales: uPlot.Scales;
  data: uPlot.AlignedData;
}

/** The dominant expression as a stepped line over fixed lanes (one per label). */
function useExpressionChart(report: SessionReport): LaneChart {
  const lanes = expressionLanes(report);
  const key = lanes.join(',');
  // Options are rebuilt only when the lanes change; data follows every report.
  const opts = useMemo(
    () => ({
      series: [{ label: 'Expression', stroke: '#6b4fbb', width: 3, paths: uPlot.paths.stepped!({ align: 1 }), points: { show: true, size: 5 }, value: (_u: uPlot, v: number | null) => (v === null ? '—' : (lanes[v] ?? '')) }],
      axes: laneAxis(lanes),
      scales: laneScale(lanes.length),
    }),
    [key],
  );
  const data = useMemo(() => expressionColumns(report, lanes), [report, key]);
  return { ...opts, data };
}

/** Alert episodes as thick bars, one lane per kind, coloured by severity. */
function useAlertChart(report: SessionReport): LaneChart & { kinds: string[] } {
  const kinds = alertLanes(report);
  const key = kinds.map((k) => `${k.kind}:${k.severity}`).join(',');
  const opts = useMemo(
    () => ({
      series: kinds.map((k): uPlot.Series => {
        const colour = SEVERITY_COLOURS[k.severity] ?? '#555';
        return { label: `${k.kind.replaceAll('_', ' ')} (${k.severity})`, stroke: colour, width: 12, cap: 'butt', points: { show: true, size: 12, fill: colour, stroke: colour }, value: (_u, v) => (v === null ? '—' : 'active') };
      }),
      axes: laneAxis(kinds.map((k) => k.kind.replaceAll('_', ' '))),
      scales: laneScale(kinds.length),
    }),
    [key],
  );
  const data = useMemo(() => alertColumns(report, kinds), [report, key]);
  return { ...opts, data, kinds: kinds.map((k) => k.kind) };
}

function tick(videoMs: number, incr: number): string {
  return incr < 1000 ? `${videoClock(videoMs)}.${Math.floor((Math.max(0, videoMs) % 1000) / 100)}` : videoClock(videoMs);
}

/**
 * A recording's charts: the x axis in video time, and a click on a chart plays the video
 * from that moment (`onSeek`, in video ms). Nothing for a live session's report.
 */
function useRecordingAxis(report: SessionReport, onSeek?: (videoMs: number) => void): { xAxis?: uPlot.Axis; timeValue?: (ms: number) => string; options?: Partial<uPlot.Options> } {
  const base = report.session.recording?.videoBaseMs;
  const seek = useRef(onSeek);
  seek.current = onSeek;
  return useMemo(() => {
    if (base === undefined) return {};
    const click = (u: uPlot) => {
      const left = u.cursor.left;
      if (left !== undefined && left >= 0 && seek.current) seek.current(Math.max(0, Math.round(u.posToVal(left, 'x') - base)));
    };
    // Ticks on whole steps of video time (uPlot's own fall on whole clock seconds).
    const splits = (_u: uPlot, _axis: number, min: number, max: number, incr: number) => {
      const out: number[] = [];
      for (let v = base + Math.ceil((min - base) / incr) * incr; v <= max; v += incr) out.push(v);
      return out;
    };
    return {
      // Steps under a second (a short clip on a wide chart) show tenths, so no two ticks read the same.
      xAxis: { splits, values: (_u: uPlot, ticks: number[], _axis: number, _space: number, incr: number) => ticks.map((v) => tick(v - base, incr)) },
      timeValue: (ms: number) => videoClock(ms - base),
      options: { hooks: { ready: [(u: uPlot) => u.over.addEventListener('click', () => click(u))] } },
    };
  }, [base]);
}

/** The report's three charts on one time axis: scores, dominant expression, alert episodes. */
export function SessionCharts({ report, onSeek }: { report: SessionReport; onSeek?: (videoMs: number) => void }) {
  const common = { xRange: reportRange(report), syncKey: `session-${report.session.sessionId}`, ...useRecordingAxis(report, onSeek) };
  const scores = useMemo(() => scoreColumns(report), [report]);
  const expr = useExpressionChart(report);
  const alerts = useAlertChart(report);
  const shares = expressionShares(report);
  const s = report.scores;
  return (
    <div class={`session-charts${onSeek && report.session.recording ? ' recording-charts' : ''}`}>
      <ChartTimeline
        {...common}
        label="Engagement, eye contact and positivity (0–100, per second)"
        summary={`${summarise('engagement', s.engagement)}; ${summarise('eye contact', s.eyeContact)}; ${summarise('positivity', s.positivity)}`}
        series={SCORE_SERIES}
        data={scores}
        scales={SCORE_SCALES}
        yAxes={SCORE_AXES}
        height={220}
        testId="chart-scores"
      />
      <ChartTimeline
        {...common}
        label="Dominant expression (per second)"
        summary={shares.length ? shares.map((e) => `${e.label} ${Math.round(e.share * 100)}%`).join(', ') : 'no expression data'}
        series={expr.series}
        data={expr.data}
        scales={expr.scales}
        yAxes={expr.axes}
        height={190}
        testId="chart-expression"
      />
      {alerts.kinds.length > 0 ? (
        <ChartTimeline
          {...common}
          label="Alert episodes"
          summary={`${report.alerts.length} episodes of ${alerts.kinds.join(', ')}; listed in the table below`}
          series={alerts.series}
          data={alerts.data}
          scales={alerts.scales}
          yAxes={alerts.axes}
          height={70 + 30 * alerts.kinds.length}
          testId="chart-alerts"
        />
      ) : (
        <p class="muted">No alert episodes.</p>
      )}
    </div>
  );
}
