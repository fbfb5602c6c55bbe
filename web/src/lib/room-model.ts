import type { AlertEvent, RoomInfo, StreamAnalysis, StreamInfo } from '@lookout/contracts';
import { AnalysisBuffer } from './analysis-buffer';
import { api, HttpError } from './api';
import { Emitter } from './emitter';
import type { LiveSocket } from './live-socket';
import { PreviewFrames } from './preview-frames';
import { ScoreSeries } from './score-series';

/**
 * What the dashboard knows about a room: its streams (the SFU's list from the REST API,
 * refreshed on `sfuevent`s, plus streams that only appear in the analysis feed — fed by
 * fallback upload, so without SFU video), per-stream analysis buffers, score series and
 * preview frames (the pictures of fallback-upload streams), and the alert feed (an
 * episode's open and close events share an id: one entry).
 */
export interface StreamTile {
  stream: string;
  source: 'webrtc' | 'ingest' | 'upload';
  producerId?: string;
  /** The media's state (SFU streams); analysis has its own. */
  state: string;
  error?: string;
  analysis?: StreamAnalysis;
}

export interface RoomEvents {
  streams: StreamTile[];
  alerts: AlertEvent[];
}

const MAX_ALERTS = 100;
/** An upload-only stream with no analysis for this long is dropped from the dashboard. */
const UPLOAD_IDLE_MS = 30_000;

export class RoomModel extends Emitter<RoomEvents> {
  streams: StreamTile[] = [];
  alerts: AlertEvent[] = [];
  private sfuStreams: StreamInfo[] = [];
  private readonly buffers = new Map<string, AnalysisBuffer>();
  private readonly series = new Map<string, ScoreSeries>();
  private readonly frames = new Map<string, PreviewFrames>();
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly sweeper = setInterval(() => this.rebuild(), 5_000);
  private readonly offs: Array<() => void>;

  constructor(
    private readonly socket: LiveSocket,
    private readonly room: string,
    private readonly token: () => Promise<string>,
  ) {
    super();
    this.offs = [
      socket.on('joined', () => this.refreshSoon(0)),
      socket.on('sfuevent', () => this.refreshSoon(300)),
      socket.on('analysis', (m) => {
        const known = this.buffers.has(m.stream);
        this.buffer(m.stream).push(m);
        if (!known) this.rebuild();
      }),
      socket.on('metrics', (m) => this.scores(m.stream).push(m)),
      socket.on('preview', (p) => this.previews(p.stream).push(p)),
      socket.on('alert', (a) => this.addAlert(a)),
    ];
    if (socket.live) this.refreshSoon(0);
  }

  buffer(stream: string): AnalysisBuffer {
    let b = this.buffers.get(stream);
    if (!b) this.buffers.set(stream, (b = new AnalysisBuffer()));
    return b;
  }

  scores(stream: string): ScoreSeries {
    let s = this.series.get(stream);
    if (!s) this.series.set(stream, (s = new ScoreSeries()));
    return s;
  }

  previews(stream: string): PreviewFrames {
    let f = this.frames.get(stream);
    if (!f) this.frames.set(stream, (f = new PreviewFrames()));
    return f;
  }

  close(): void {
    clearTimeout(this.refreshTimer);
    clearInterval(this.sweeper);
    this.offs.forEach((off) => off());
  }

  /** Coalesces bursts of sfuevents into one REST call. */
  private refreshSoon(ms: number): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), ms);
  }

  private async refresh(): Promise<void> {
    try {
      const info = await api<RoomInfo>(`/rooms/${encodeURIComponent(this.room)}`, { token: await this.token() });
      this.sfuStreams = info.streams;
    } catch (err) {
      // 404: no SFU owns the room (yet); anything else is retried with the next event.
      if (!(err instanceof HttpError && err.status === 404)) console.warn('lookout: room info', (err as Error).message);
      this.sfuStreams = [];
    }
    this.rebuild();
  }

  private rebuild(): void {
    const now = Date.now();
    const tiles = new Map<string, StreamTile>();
    for (const s of this.sfuStreams) {
      if (s.state === 'closed') continue;
      tiles.set(s.stream, {
        stream: s.stream,
        source: s.source,
        ...(s.producerId ? { producerId: s.producerId } : {}),
        state: s.state,
        ...(s.error ? { error: s.error } : {}),
        analysis: s.analysis,
      });
    }
    for (const [stream, b] of this.buffers) {
      if (tiles.get(stream)?.producerId || now - b.lastReceivedMs > UPLOAD_IDLE_MS) continue;
      tiles.set(stream, { stream, source: 'upload', state: 'live' });
    }
    const next = [...tiles.values()].sort((a, b) => a.stream.localeCompare(b.stream));
    if (JSON.stringify(next) === JSON.stringify(this.streams)) return;
    this.streams = next;
    this.emit('streams', next);
  }

  private addAlert(a: AlertEvent): void {
    const rest = this.alerts.filter((x) => x.id !== a.id);
    this.alerts = [a, ...rest].sort((x, y) => y.startMs - x.startMs).slice(0, MAX_ALERTS);
    this.emit('alerts', this.alerts);
  }
}
