import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import './chart-timeline.css';

export interface ChartTimelineProps {
  /** Accessible name and visible caption of the chart. */
  label: string;
  /** A sentence read by screen readers in place of the picture (e.g. "mean 72, min 40"). */
  summary?: string;
  /** The y series (the x series, time, is added here). Memoize: a new array rebuilds the chart. */
  series: uPlot.Series[];
  /** `[x, ...ys]`: x in ms since epoch, then one array per series (null = gap). */
  data: uPlot.AlignedData;
  height?: number;
  /** Scales besides x (e.g. `{ y: { range: [0, 100] } }`). Memoize. */
  scales?: uPlot.Scales;
  /** The x axis (default: uPlot's clock times). Memoize. */
  xAxis?: uPlot.Axis;
  /** The legend's time for a cursor position (default: uPlot's date and time). Memoize. */
  timeValue?: (ms: number) => string;
  /** Axes after the x axis (the y axes). Memoize. */
  yAxes?: uPlot.Axis[];
  /** Charts with the same key move their cursors together. */
  syncKey?: string;
  /** Fixed x range [min, max] in ms, so stacked charts line up. */
  xRange?: [number, number];
  /** Anything else uPlot takes (legend, hooks, bands…); applied last. Memoize. */
  options?: Partial<uPlot.Options>;
  testId?: string;
}

/** Width used while printing (A4 portrait with 15 mm margins, at 96 dpi). */
const PRINT_WIDTH = 680;

/**
 * A time-series chart drawn by uPlot (small, fast, canvas). Builds the chart once per
 * series/scale set and only pushes new data afterwards, so a live chart updating every
 * second does not rebuild its DOM; follows its container's width and the print width.
 */
export function ChartTimeline(p: ChartTimelineProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const height = p.height ?? 200;

  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      ms: 1,
      series: [{ label: 'Time', ...(p.timeValue ? { value: (_u: uPlot, v: number | null) => (v === null ? '—' : p.timeValue!(v)) } : {}) }, ...p.series],
      scales: { x: { time: true, ...(p.xRange ? { range: p.xRange } : {}) }, ...p.scales },
      axes: [p.xAxis ?? {}, ...(p.yAxes ?? [{}])],
      cursor: p.syncKey ? { sync: { key: p.syncKey } } : {},
      ...p.options,
    };
    const u = new uPlot(opts, p.data, el);
    chart.current = u;
    const fit = (width = el.clientWidth) => width > 0 && u.setSize({ width, height });
    const ro = new ResizeObserver(() => fit());
    ro.observe(el);
    const beforePrint = () => fit(PRINT_WIDTH);
    const afterPrint = () => fit();
    addEventListener('beforeprint', beforePrint);
    addEventListener('afterprint', afterPrint);
    return () => {
      ro.disconnect();
      removeEventListener('beforeprint', beforePrint);
      removeEventListener('afterprint', afterPrint);
      u.destroy();
      chart.current = null;
    };
    // Data changes are pushed below without rebuilding; xRange is compared by value.
  }, [p.series, p.scales, p.xAxis, p.timeValue, p.yAxes, p.options, p.syncKey, height, p.xRange?.[0], p.xRange?.[1]]);

  useEffect(() => {
    chart.current?.setData(p.data);
  }, [p.data]);

  return (
    <figure class="chart-timeline" data-testid={p.testId}>
      <figcaption>{p.label}</figcaption>
      <div ref={box} role="img" aria-label={p.summary ? `${p.label}: ${p.summary}` : p.label} />
    </figure>
  );
}
