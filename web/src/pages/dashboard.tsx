import { useEffect, useState } from 'preact/hooks';
import { DashboardAlerts } from '../components/dashboard-alerts';
import { NeedCredential, RoomForm } from '../components/dashboard-room-form';
import { TileStream } from '../components/tile-stream';
import { RoomViewer } from '../lib/consumer';
import { statusText, useLiveSocket, useTokenSource, type TokenSource } from '../lib/live-hooks';
import type { LiveSocket } from '../lib/live-socket';
import { RoomModel, type StreamTile } from '../lib/room-model';
import { href } from '../lib/route';

// `preview`: the pictures of fallback-upload streams (no SFU video to consume for them).
const FEEDS = ['analysis', 'alerts', 'metrics', 'preview'] as const;

/**
 * Room dashboard: every stream of the room as a tile (SFU video with the analysis overlay,
 * a live chart, latency) and the room's alert feed. Route: `#/dashboard?room=…&token=…`
 * (a viewer token; without one the admin key mints it).
 */
export function DashboardPage({ params }: { params: URLSearchParams }) {
  const room = params.get('room') ?? '';
  const tokens = useTokenSource(params, room, 'viewer');
  if (!room) return (<><h1>Room dashboard</h1><RoomForm page="dashboard" hint="The room whose streams and alerts to watch." /></>);
  if (!tokens) return (<><h1>Room {room}</h1><NeedCredential role="viewer" /></>);
  return <Dashboard room={room} tokens={tokens} />;
}

function Dashboard({ room, tokens }: { room: string; tokens: TokenSource }) {
  const { socket, status } = useLiveSocket(room, tokens, FEEDS);
  const { model, streams, alerts } = useRoomModel(socket, room, tokens);
  const { viewer, transport } = useViewer(socket);
  const [syncVideo, setSyncVideo] = useState(true);
  const conn = statusText(status);

  return (
    <>
      <div class="dashboard-head">
        <h1>Room {room}</h1>
        <div role="status" aria-live="polite" class="row">
          <span>
            Gateway: <span class={`status ${conn.tone}`} data-testid="socket-status">{conn.text}</span>
          </span>
          {transport && (
            <span>
              Video: <span class={`status ${transport === 'connected' ? 'ok' : transport === 'failed' ? 'bad' : ''}`}>{transport}</span>
            </span>
          )}
          <span class="muted">
            {streams.length} stream{streams.length === 1 ? '' : 's'}
          </span>
        </div>
        <label class="row dashboard-sync">
          <input type="checkbox" checked={syncVideo} onChange={(e) => setSyncVideo(e.currentTarget.checked)} />
          Delay video to match the analysis
        </label>
        <a href={href('publish', { room })}>Publish into this room</a>
      </div>
      <div class="dashboard-layout">
        <section aria-label="Streams" class="dashboard-tiles">
          {model && streams.length === 0 && <p class="card muted">No streams in this room yet. Publish a camera or add an ingest.</p>}
          {model && streams.map((t: StreamTile) => <TileStream key={t.stream} tile={t} model={model} viewer={viewer} syncVideo={syncVideo} />)}
        </section>
        <DashboardAlerts alerts={alerts} />
      </div>
    </>
  );
}

function useRoomModel(socket: LiveSocket | null, room: string, tokens: TokenSource) {
  const [model, setModel] = useState<RoomModel | null>(null);
  const [streams, setStreams] = useState<StreamTile[]>([]);
  const [alerts, setAlerts] = useState<RoomModel['alerts']>([]);
  useEffect(() => {
    if (!socket) return;
    const m = new RoomModel(socket, room, tokens.get);
    const offs = [m.on('streams', setStreams), m.on('alerts', setAlerts)];
    setModel(m);
    return () => (offs.forEach((off) => off()), m.close(), setModel(null), setStreams([]));
  }, [socket, room, tokens]);
  return { model, streams, alerts };
}

/**
 * One RoomViewer per socket connection (the gateway closed the old one's transport) and per
 * router: after `worker_died` the room was built again on a new router (docs/sfu.md), so the
 * tiles watch its new producers through a new transport.
 */
function useViewer(socket: LiveSocket | null) {
  const [viewer, setViewer] = useState<RoomViewer | null>(null);
  const [transport, setTransport] = useState('');
  useEffect(() => {
    if (!socket) return;
    let current: RoomViewer | null = null;
    const fresh = () => {
      current?.reset();
      current = new RoomViewer(socket);
      current.onState = setTransport;
      setViewer(current);
    };
    const offs = [socket.on('joined', fresh), socket.on('sfuevent', (e) => e.type === 'worker_died' && fresh())];
    if (socket.live) fresh();
    return () => (offs.forEach((off) => off()), current?.reset(), setViewer(null));
  }, [socket]);
  return { viewer, transport };
}
