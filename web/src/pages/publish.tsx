import { isId } from '@lookout/contracts';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { RoomForm, NeedCredential } from '../components/dashboard-room-form';
import { PublishMetrics } from '../components/publish-metrics';
import { PublishStatus } from '../components/publish-status';
import { TileVideo } from '../components/tile-video';
import { AnalysisBuffer } from '../lib/analysis-buffer';
import { api } from '../lib/api';
import { NO_ANALYSIS, type InView } from '../lib/in-view';
import { statusText, useLiveSocket, useTokenSource } from '../lib/live-hooks';
import type { LiveSocket } from '../lib/live-socket';
import { Publisher, type PublisherState } from '../lib/publisher';
import { ScoreSeries } from '../lib/score-series';
import { useStreamAnalysis } from '../lib/stream-analysis';

const FEEDS = ['analysis', 'metrics'] as const;

/**
 * Publish: join a room with a token, choose a camera, publish, and see your own video with
 * live overlays and your metrics. Route: `#/publish?room=…&token=…&stream=…&fps=…` (`fps`:
 * fallback upload rate; default: the room's sample rate).
 */
export function PublishPage({ params }: { params: URLSearchParams }) {
  const room = params.get('room') ?? '';
  const tokens = useTokenSource(params, room, 'publisher');
  if (!room) return (<><h1>Publish</h1><RoomForm page="publish" hint="The room to publish your camera into." /></>);
  if (!tokens) return (<><h1>Publish to {room}</h1><NeedCredential role="publisher" /></>);
  return <Publish room={room} params={params} tokens={tokens} />;
}

function Publish({ room, params, tokens }: { room: string; params: URLSearchParams; tokens: NonNullable<ReturnType<typeof useTokenSource>> }) {
  const { socket, status } = useLiveSocket(room, tokens, FEEDS);
  const [peer, setPeer] = useState('');
  const [streamDraft, setStreamDraft] = useState(params.get('stream') ?? '');
  const stream = streamDraft || peer;
  const buffer = useMemo(() => new AnalysisBuffer(), [room, stream]);
  const series = useMemo(() => new ScoreSeries(), [room, stream]);
  // What the overlay shows is what the metrics panel describes.
  const [view, setView] = useState<InView>(NO_ANALYSIS);
  useFeeds(socket, stream, buffer, series, setPeer);
  const cam = useCamera();
  const { publisher, state, start, stop } = usePublisher(socket, stream, cam, useUploadFps(room, params, tokens, status.status === 'live'));
  const validStream = isId(stream);
  const analysis = useStreamAnalysis(socket, room, stream, tokens.get, !!publisher && state.path !== 'fallback');

  return (
    <>
      <h1>Publish to {room}</h1>
      <form class="card row publish-controls" onSubmit={(e) => (e.preventDefault(), publisher ? stop() : void start())}>
        <label for="publish-stream">Stream</label>
        <input id="publish-stream" value={stream} disabled={!!publisher} onInput={(e) => setStreamDraft(e.currentTarget.value)} aria-invalid={!validStream} required />
        <label for="publish-camera">Camera</label>
        <select id="publish-camera" value={cam.deviceId} onChange={(e) => void cam.choose(e.currentTarget.value, publisher)}>
          {cam.devices.length === 0 && <option value="">Default camera</option>}
          {cam.devices.map((d, i) => (
            <option value={d.deviceId}>{d.label || `Camera ${i + 1}`}</option>
          ))}
        </select>
        <button type="submit" disabled={!publisher && (!validStream || status.status !== 'live')}>
          {publisher ? 'Stop publishing' : 'Start publishing'}
        </button>
        {state.path === 'fallback' && (
          <button type="button" class="secondary" onClick={() => publisher?.retryWebRtc()}>
            Try WebRTC again
          </button>
        )}
      </form>
      {cam.error && <p class="card error" role="alert">Camera: {cam.error}</p>}
      <div class="publish-layout">
        <div class="publish-main">
          <TileVideo media={cam.media} buffer={buffer} sync="latest" label="Your camera with analysis overlay" names={false} placeholder="Camera off: press Start publishing" onView={setView} />
        </div>
        <aside class="publish-side">
          <PublishStatus conn={statusText(status)} publisher={publisher} state={state} analysis={analysis} />
          <PublishMetrics view={view} buffer={buffer} series={series} />
        </aside>
      </div>
    </>
  );
}

/** Routes the socket's feeds for this stream into the page's buffer and series. */
function useFeeds(socket: LiveSocket | null, stream: string, buffer: AnalysisBuffer, series: ScoreSeries, setPeer: (p: string) => void): void {
  useEffect(() => {
    if (!socket) return;
    const offs = [
      socket.on('joined', (j) => setPeer(j.peer)),
      socket.on('analysis', (m) => m.stream === stream && buffer.push(m)),
      socket.on('metrics', (m) => m.stream === stream && series.push(m)),
    ];
    return () => offs.forEach((off) => off());
  }, [socket, stream, buffer, series]);
}

interface Camera {
  media: MediaStream | null;
  devices: MediaDeviceInfo[];
  deviceId: string;
  error: string;
  open: () => Promise<MediaStream | null>;
  choose: (deviceId: string, publisher: Publisher | null) => Promise<void>;
  close: () => void;
}

function useCamera(): Camera {
  const [media, setMedia] = useState<MediaStream | null>(null);
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [deviceId, setDeviceId] = useState('');
  const [error, setError] = useState('');
  const current = useRef<MediaStream | null>(null);
  const open = async (id = deviceId) => {
    try {
      const m = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, ...(id ? { deviceId: { exact: id } } : {}) }, audio: false });
      // 'detail': Chrome otherwise starts at 320×240 while its bandwidth estimate ramps up.
      m.getVideoTracks()[0]!.contentHint = 'detail';
      current.current?.getTracks().forEach((t) => t.stop());
      current.current = m;
      setMedia(m);
      setError('');
      setDevices((await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput'));
      setDeviceId(m.getVideoTracks()[0]!.getSettings().deviceId ?? id);
      return m;
    } catch (err) {
      setError((err as Error).message);
      return null;
    }
  };
  const close = () => (current.current?.getTracks().forEach((t) => t.stop()), (current.current = null), setMedia(null));
  useEffect(() => close, []);
  const choose = async (id: string, publisher: Publisher | null) => {
    setDeviceId(id);
    if (!current.current) return;
    const m = await open(id);
    if (m && publisher) await publisher.replaceTrack(m.getVideoTracks()[0]!);
  };
  return { media, devices, deviceId, error, open, choose, close };
}

/**
 * Frames per second for the fallback upload: `fps` from the link, else the room's sample
 * rate (so uploaded frames arrive as often as the SFU would sample them), else 5.
 */
function useUploadFps(room: string, params: URLSearchParams, tokens: NonNullable<ReturnType<typeof useTokenSource>>, live: boolean): number {
  const fromLink = Number(params.get('fps'));
  const [roomFps, setRoomFps] = useState<number | null>(null);
  useEffect(() => {
    // Asked once joined: the first join is what creates the room on an SFU.
    if (fromLink || !live) return;
    void tokens
      .get()
      .then((token) => api<{ sampleFps: number }>(`/rooms/${room}`, { token }))
      .then((r) => setRoomFps(r.sampleFps))
      .catch(() => undefined); // no room info (yet): the default applies
  }, [room, tokens, fromLink, live]);
  return fromLink || roomFps || 5;
}

function usePublisher(socket: LiveSocket | null, stream: string, cam: Camera, fps: number) {
  const [publisher, setPublisher] = useState<Publisher | null>(null);
  const [state, setState] = useState<PublisherState>({ path: 'stopped', detail: '' });
  useEffect(() => () => publisher?.stop(), [publisher]);
  const start = async () => {
    if (!socket) return;
    const m = cam.media ?? (await cam.open());
    if (!m) return;
    const p = new Publisher({ socket, stream, track: m.getVideoTracks()[0]!, fps, onState: setState });
    setPublisher(p);
    p.start();
  };
  const stop = () => {
    publisher?.stop();
    setPublisher(null);
    cam.close();
  };
  return { publisher, state, start, stop };
}
