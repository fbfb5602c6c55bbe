import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import type { ScoreSeries } from '../lib/score-series';

/**
 * A small live chart of engagement and eye contact (0–100, one point per second) drawn by
 * uPlot. The caption repeats the latest values as text: the chart is a canvas.
 */
export function ChartScores({ series, title }: { series: ScoreSeries; title: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [caption, setCaption] = useState('waiting for the first second of metrics');

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const plot = new uPlot(options(el.clientWidth || 320), series.columns(), el);
    const update = () => {
      plot.setData(series.columns());
      const p = series.latest();
      if (p) setCaption(`engagement ${fmt(p.engagement)}, eye contact ${fmt(p.eyeContact)} (last second)`);
    };
    update();
    const unsubscribe = series.subscribe(update);
    // uPlot has a fixed pixel size: follow the tile's width (responsive grid).
    const resized = new ResizeObserver(() => el.clientWidth > 0 && plot.setSize({ width: el.clientWidth, height: HEIGHT }));
    resized.observe(el);
    return () => (unsubscribe(), resized.disconnect(), plot.destroy());
  }, [series]);

  return (
    <figure class="chart-scores">
      <div ref={host} class="chart-host" role="img" aria-label={`${title}: ${caption}`} />
      <figcaption class="muted">{caption}</figcaption>
    </figure>
  );
}

const HEIGHT = 120;
const WINDOW_S = 60;
const clock = (s: number) => new Date(s * 1000).toLocaleTimeString([], { minute: '2-digit', second: '2-digit' });
const fmt = (v: number | null) => (v === null ? '–' : String(Math.round(v)));

/** Dots while there are few points (a single second draws no line), none once it is a line. */
const points: uPlot.Series.Points = { show: (u: uPlot) => u.data[0].length < 15, size: 5 };

function options(width: number): uPlot.Options {
  return {
    width,
    height: HEIGHT,
    legend: { show: true, live: false },
    cursor: { show: false },
    // A fixed one-minute window: the chart does not stretch its first points across the width.
    // (plus a second on the right, or the newest point would sit half outside the plot).
    scales: { x: { time: true, range: (_u, _min, max) => [max - WINDOW_S, max + 1] }, y: { range: [-2, 102] } },
    axes: [
      // mm:ss on one line: uPlot's default time labels add a second line the small chart clips.
      { size: 24, font: '11px system-ui', stroke: '#5b6470', grid: { stroke: '#eceff3' }, ticks: { show: false }, values: (_u, splits) => splits.map(clock) },
      { size: 30, font: '11px system-ui', stroke: '#5b6470', grid: { stroke: '#eceff3' }, ticks: { show: false }, splits: () => [0, 50, 100] },
    ],
    series: [
      {},
      { label: 'Engagement', stroke: '#1f5fbf', width: 2, spanGaps: false, points },
      { label: 'Eye contact', stroke: '#1f7a3f', width: 2, dash: [5, 3], spanGaps: false, points },
    ],
  };
}
