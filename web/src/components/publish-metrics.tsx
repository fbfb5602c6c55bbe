import type { AnalysedFace, AnalysisMessage } from '@lookout/contracts';
import { useEffect, useState } from 'preact/hooks';
import type { AnalysisBuffer } from '../lib/analysis-buffer';
import type { ScoreSeries } from '../lib/score-series';
import { ChartScores } from './chart-scores';

/** The publisher's own numbers: who is seen, attention, scores, latency, and a live chart. */
export function PublishMetrics({ buffer, series }: { buffer: AnalysisBuffer; series: ScoreSeries }) {
  const [msg, setMsg] = useState<AnalysisMessage | undefined>(buffer.latest());
  const [tick, setTick] = useState(0);
  useEffect(() => {
    // Re-render at most every 200 ms, always ending on the latest result (trailing update).
    let pending: ReturnType<typeof setTimeout> | undefined;
    const off = buffer.subscribe(() => {
      pending ??= setTimeout(() => {
        pending = undefined;
        setMsg(buffer.latest());
      }, 200);
    });
    const timer = setInterval(() => setTick((t) => t + 1), 1000);
    return () => (off(), clearInterval(timer), clearTimeout(pending));
  }, [buffer]);

  const fresh = msg && Date.now() - msg.captureMs < 3000 ? msg : undefined;
  const face = fresh ? principalFace(fresh) : undefined;
  const p50 = buffer.latencyP50();
  return (
    <section class="card publish-metrics" aria-labelledby="my-metrics" data-tick={tick}>
      <h2 id="my-metrics">Your metrics</h2>
      <dl class="publish-dl">
        <dt>Person</dt>
        <dd data-testid="my-identity">{face ? (face.identity ? `${face.identity.name} (similarity ${face.identity.similarity.toFixed(2)})` : 'Unknown person') : fresh ? 'Nobody in view' : '–'}</dd>
        <dt>Attention</dt>
        <dd>{face?.pose ? `${face.pose.lookingAtCamera ? 'Looking at the camera' : 'Looking away'} (yaw ${Math.round(face.pose.yaw)}°, pitch ${Math.round(face.pose.pitch)}°)` : '–'}</dd>
        <dt>Engagement</dt>
        <dd>{score(face?.scores?.engagement)}</dd>
        <dt>Eye contact</dt>
        <dd>{score(face?.scores?.eyeContact)}</dd>
        <dt>Expression</dt>
        <dd>{face?.expression?.label ?? '–'}</dd>
        <dt>Faces</dt>
        <dd>{fresh ? fresh.faces.length : '–'}</dd>
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

function principalFace(msg: AnalysisMessage): AnalysedFace | undefined {
  return msg.faces.find((f) => f.principal) ?? msg.faces[0];
}
