import { useEffect, useState } from 'preact/hooks';
import type { RoomViewer, Watched } from '../lib/consumer';
import type { RoomModel, StreamTile } from '../lib/room-model';
import { analysisLabel, mediaTone } from '../lib/stream-status';
import { ChartScores } from './chart-scores';
import { TileVideo } from './tile-video';

/** Longest playout delay Chrome accepts for jitterBufferTarget. */
const MAX_DELAY_MS = 4_000;
/** Added to the median latency so most results arrive before their frame is shown. */
const DELAY_MARGIN_MS = 80;

const SOURCE_LABEL: Record<StreamTile['source'], string> = { webrtc: 'WebRTC', ingest: 'camera/file ingest', upload: 'fallback upload' };

/** One stream of the room: video with overlay, live score chart, pipeline latency. */
export function TileStream({ tile, model, viewer, syncVideo }: { tile: StreamTile; model: RoomModel; viewer: RoomViewer | null; syncVideo: boolean }) {
  const buffer = model.buffer(tile.stream);
  const [watched, setWatched] = useState<Watched | null>(null);
  const [media, setMedia] = useState<MediaStream | null>(null);
  const [videoError, setVideoError] = useState('');
  const [latency, setLatency] = useState<number | null>(null);
  const [delay, setDelay] = useState(0);

  useEffect(() => {
    if (!tile.producerId || !viewer) return;
    let closed = false;
    let w: Watched | undefined;
    setVideoError('');
    viewer.watch(tile.producerId).then(
      (x) => (closed ? x.close() : ((w = x), setWatched(x), setMedia(new MediaStream([x.track])))),
      (err: Error) => !closed && setVideoError(`video unavailable: ${err.message}`),
    );
    return () => {
      closed = true;
      w?.close();
      setWatched(null);
      setMedia(null);
    };
  }, [tile.producerId, viewer]);

  // Latency readout and the video delay that lets the overlay match the frame on screen.
  useEffect(() => {
    const update = () => {
      const p50 = buffer.latencyP50();
      setLatency(p50);
      const receiver = watched?.receiver as (RTCRtpReceiver & { jitterBufferTarget?: number | null }) | undefined;
      if (!receiver || !('jitterBufferTarget' in receiver)) return;
      const target = syncVideo && p50 !== null ? Math.min(MAX_DELAY_MS, Math.round(p50 + DELAY_MARGIN_MS)) : 0;
      if (Math.abs((receiver.jitterBufferTarget ?? 0) - target) > 40) receiver.jitterBufferTarget = target || null;
      setDelay(target);
    };
    update();
    const timer = setInterval(update, 1_000);
    return () => clearInterval(timer);
  }, [buffer, watched, syncVideo]);

  const upload = tile.source === 'upload';
  const titleId = `tile-${tile.stream}`;
  return (
    <article class="card tile" aria-labelledby={titleId} data-stream={tile.stream}>
      <header class="tile-head">
        <h2 id={titleId}>{tile.stream}</h2>
        <span class={`status ${upload ? 'warn' : mediaTone(tile.state)}`} data-testid="media-state">
          {SOURCE_LABEL[tile.source]}
          {upload ? '' : ` · ${tile.state}`}
        </span>
        <span class="tile-latency" title="Pipeline latency: analysis receipt time minus frame capture time, median of the last 50 frames">
          latency p50 {latency === null ? '–' : `${Math.round(latency)} ms`}
        </span>
      </header>
      {!upload && <TileAnalysis analysis={tile.analysis} />}
      <TileVideo
        media={media}
        buffer={buffer}
        sync={media ? 'frame' : 'latest'}
        label={`Live video of stream ${tile.stream} with analysis overlay`}
        placeholder={tile.error ? `Stream ${tile.state}: ${tile.error}` : videoError || 'Connecting video…'}
        previews={upload ? model.previews(tile.stream) : undefined}
      />
      {media && delay > 0 && <p class="muted tile-note">Video delayed ≈ {delay} ms so the overlay matches the frame on screen.</p>}
      <ChartScores series={model.scores(tile.stream)} title={`Engagement and eye contact of ${tile.stream}`} />
    </article>
  );
}

/** Whether the stream is being analysed, and if not why: apart from its video's state. */
function TileAnalysis({ analysis }: { analysis: StreamTile['analysis'] }) {
  const label = analysisLabel(analysis);
  return (
    <p class="tile-analysis" role="status" data-testid="analysis-state" data-state={analysis?.state ?? 'unknown'}>
      <span class={`status status-long ${label.tone}`}>{label.text}</span>
    </p>
  );
}
