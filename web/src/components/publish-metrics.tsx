import { useEffect, useState } from 'preact/hooks';
import type { AnalysisBuffer } from '../lib/analysis-buffer';
import type { InView } from '../lib/in-view';
import type { ScoreSeries } from '../lib/score-series';
import { ChartScores } from './chart-scores';

/**
 * The publisher's own numbers: whether a face is seen, attention, scores, latency, and a
 * live chart. Never a name: a publisher's socket is told no gallery identities (who is
 * recognised is for the people watching the room, docs/gateway.md "Roles").
 * Who is seen is the `view` the page's video overlay shows (TileVideo's `onView`), not a
 * second reading of the buffer: the panel and the picture describe the same result.
 */
export function PublishMetrics({ view, buffer, series }: { view: InView; buffer: AnalysisBuffer; series: ScoreSeries }) {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    // Frames analysed and latency change with every result: a readout once a second is enough.
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, [buffer]);

  const main = view.main;
  const face = main?.face;
  const p50 = buffer.latencyP50();
  return (
    <section class="card publish-metrics" aria-labelledby="my-metrics" data-tick={tick}>
      <h2 id="my-metrics">Your metrics</h2>
      <dl class="publish-dl">
        <dt>Person</dt>
        <dd data-testid="my-identity" data-seq={view.msg?.seq ?? ''}>
          {main ? 'Face in view' : view.msg ? 'Nobody in view' : '–'}
        </dd>
        <dt>Attention</dt>
        <dd>{face?.pose ? `${face.pose.lookingAtCamera ? 'Looking at the camera' : 'Looking away'} (yaw ${Math.round(face.pose.yaw)}°, pitch ${Math.round(face.pose.pitch)}°)` : '–'}</dd>
        <dt>Engagement</dt>
        <dd>{score(face?.scores?.engagement)}</dd>
        <dt>Eye contact</dt>
        <dd>{score(face?.scores?.eyeContact)}</dd>
        <dt>Expression</dt>
        <dd>{face?.expression?.label ?? '–'}</dd>
        <dt>Faces</dt>
        <dd data-testid="my-faces">{view.msg ? view.faces.length : '–'}</dd>
        <dt>Frames analysed</dt>
        <dd data-testid="frames-analysed">{buffer.count}</dd>
        <dt>Latency p50</dt>
        <dd title="Analysis receipt time minus frame capture time, median of the last 50 frames">{p50 === null ? '–' : `${Math.round(p50)} ms`}</dd>
      </dl>
      <ChartScores series={series} title="Your engagement and eye contact" />
    </section>
  );
}

const score = (v: number | undefined) => (v === undefined ? '–' : `${Math.round(v)} / 100`);
