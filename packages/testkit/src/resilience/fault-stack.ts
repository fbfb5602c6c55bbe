import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import { serverMessage, type AlertEvent, type AnalysisMessage } from '@lookout/contracts';
import { descendantsIn, processCommandLine, processTable } from '@lookout/service-kit';
import { freePorts } from '../ports.js';
import { spawnProcess, type Spawned } from '../processes.js';
import { FIXTURES, ROOT } from '../services.js';

/**
 * The whole system as a user runs it (`npm start`: the supervised launcher, its own
 * nats-server, every service), on free ports with its data in `dataDir`.
 */
export interface Stack {
  launcher: Spawned;
  base: string;
  wsUrl: string;
  adminKey: string;
  natsUrl: string;
  /** NATS passwords by user (one per service, and `cli`). */
  natsUsers: Record<string, string>;
}

export async function startStack(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<Stack> {
  const [port, natsPort, monitorPort] = await freePorts(3);
  const launcher = spawnProcess(
    'launcher',
    process.execPath,
    ['scripts/start.mjs'],
    {
      PORT: String(port),
      NATS_PORT: String(natsPort),
      NATS_MONITOR_PORT: String(monitorPort),
      DATA_DIR: dataDir,
      NATS_URL: '',
      LOG_FORMAT: 'json',
      MEDIASOUP_WORKERS: '1',
      RTC_LISTEN_IP: '127.0.0.1',
      INGEST_FILE_ROOT: path.join(FIXTURES, 'video'),
      WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      AUTH_FAILURES_PER_MINUTE: '100000',
      ...env,
    },
    ROOT,
  );
  await launcher.waitForLine((l) => l.includes('Dashboard:'), 180_000);
  const secrets = JSON.parse(fs.readFileSync(path.join(dataDir, 'gateway-secrets.json'), 'utf8')) as { adminKey: string };
  const natsUsers = JSON.parse(fs.readFileSync(path.join(dataDir, 'nats-users.json'), 'utf8')) as Record<string, string>;
  return { launcher, base: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws`, adminKey: secrets.adminKey, natsUrl: `nats://127.0.0.1:${natsPort}`, natsUsers };
}

/** The processes a fault can hit, as the launcher's process tree shows them. */
export type FaultTarget = 'nats-server' | 'detector' | 'reid' | 'sfu' | 'gateway' | 'mediasoup-worker' | 'tap-ffmpeg' | 'ingest-ffmpeg';

function matches(target: FaultTarget, argv: string[]): boolean {
  const line = argv.join(' ');
  switch (target) {
    case 'nats-server':
      return path.basename(argv[0] ?? '') === 'nats-server';
    case 'mediasoup-worker':
      return path.basename(argv[0] ?? '').startsWith('mediasoup-worker');
    case 'tap-ffmpeg':
      // The tap reads an SDP on stdin and writes JPEGs; the ingest sends RTP.
      return path.basename(argv[0] ?? '') === 'ffmpeg' && line.includes('-f sdp');
    case 'ingest-ffmpeg':
      return path.basename(argv[0] ?? '') === 'ffmpeg' && line.includes('-f rtp');
    default:
      return line.includes(path.join('services', target, 'dist', 'main.js'));
  }
}

/** Pids under `root` (the launcher) running `target`; for ffmpeg, only those whose command line includes `extra`. */
export async function findPids(root: number, target: FaultTarget, extra?: string): Promise<number[]> {
  const table = await processTable();
  const out: number[] = [];
  for (const pid of descendantsIn(table, root)) {
    const argv = await processCommandLine(pid);
    if (argv && matches(target, argv) && (!extra || argv.join(' ').includes(extra))) out.push(pid);
  }
  return out;
}

/** What one WebSocket observer saw of a stream. */
export interface Seen {
  captureMs: number;
  receivedMs: number;
  faces: number;
  principal: string | null;
}

/**
 * A viewer that stays subscribed to a room whatever happens to the gateway: on close it
 * reconnects (every 500 ms) and subscribes again, as the web app does. Keeps what it sees.
 */
export class RoomViewer {
  readonly analysis = new Map<string, Seen[]>();
  readonly alerts: AlertEvent[] = [];
  reconnects = 0;
  subscribed = false;
  private ws: WebSocket | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly room: string,
    private readonly token: () => Promise<string>,
    private readonly keep: boolean,
  ) {}

  start(): void {
    void this.open();
  }

  private async open(): Promise<void> {
    if (this.closed) return;
    let token: string;
    try {
      token = await this.token();
    } catch {
      return this.retry();
    }
    const ws = new WebSocket(`${this.url}?token=${encodeURIComponent(token)}`);
    this.ws = ws;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', room: this.room, id: 'sub' })));
    ws.on('message', (data) => this.onMessage(data.toString()));
    ws.on('error', () => undefined);
    ws.on('close', () => {
      this.subscribed = false;
      if (this.ws === ws) this.retry();
    });
  }

  private retry(): void {
    if (this.closed) return;
    this.reconnects++;
    this.timer = setTimeout(() => void this.open(), 500);
  }

  private onMessage(text: string): void {
    let msg;
    try {
      msg = serverMessage.parse(JSON.parse(text));
    } catch {
      return;
    }
    if (msg.type === 'ack' && msg.id === 'sub') this.subscribed = true;
    if (!this.keep) return;
    if (msg.type === 'analysis') {
      const a: AnalysisMessage = msg.data;
      const list = this.analysis.get(a.stream) ?? [];
      list.push({ captureMs: a.captureMs, receivedMs: Date.now(), faces: a.faces.length, principal: a.principal?.subjectId ?? null });
      this.analysis.set(a.stream, list);
    } else if (msg.type === 'alert') this.alerts.push(msg.data);
  }

  /** Analysed frames of `stream` captured in [fromMs, toMs). */
  between(stream: string, fromMs: number, toMs: number): Seen[] {
    return (this.analysis.get(stream) ?? []).filter((s) => s.captureMs >= fromMs && s.captureMs < toMs);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.terminate();
  }
}

/** A webhook receiver on 127.0.0.1 that answers 200 and keeps every delivery's event id. */
export async function webhookSink(): Promise<{ url: string; ids: string[]; close(): Promise<void> }> {
  const ids: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      try {
        ids.push((JSON.parse(body) as { id: string }).id);
      } catch {
        // not an event
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, ids, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Polls `check` every 250 ms until it returns a value; undefined after `timeoutMs` (no throw: a row records "never"). */
export async function firstWithin<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 250));
  }
}
