import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../ports.js';
import { spawnProcess, type Spawned } from '../processes.js';
import { FIXTURES } from '../services.js';

/** The GStreamer RTSP server script; it ships as source (tsc does not copy it), so found from src/. */
const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/media/rtsp_camera.py');
/** Debian's python3: the one with python3-gi (a pyenv/venv python has no `gi`). Override with RTSP_CAMERA_PYTHON. */
const PYTHON = process.env.RTSP_CAMERA_PYTHON ?? '/usr/bin/python3';

export const RTSP_CAMERA_VIDEO = path.join(FIXTURES, 'video/two-faces-together-640x480-15fps.webm');

export interface RtspCameraOptions {
  /** The video looped (default: the two-faces 640×480 fixture). */
  file?: string;
  fps?: number;
  /** Frames between IDRs (default = fps: one a second, like most cameras). */
  gop?: number;
  /** Require RTSP basic auth with these credentials. */
  user?: string;
  password?: string;
  /** Listen on this port (default: a free one). */
  port?: number;
}

/**
 * A stand-in IP camera: the GStreamer RTSP server (scripts/setup.sh installs it) serving a
 * fixture looped as H.264 constrained baseline, packetization-mode 1, at
 * rtsp://127.0.0.1:<port>/cam. stop() and start() again keep the port, like a camera that
 * reboots.
 */
export class RtspCamera {
  private proc: Spawned | undefined;

  private constructor(
    readonly port: number,
    private readonly o: RtspCameraOptions,
  ) {}

  static async start(o: RtspCameraOptions = {}): Promise<RtspCamera> {
    const cam = new RtspCamera(o.port ?? (await freePorts(1))[0]!, o);
    await cam.start();
    return cam;
  }

  /** The URL without credentials. */
  get url(): string {
    return `rtsp://127.0.0.1:${this.port}/cam`;
  }

  /** The URL with the credentials in it (as an operator would paste it). */
  get urlWithCredentials(): string {
    if (!this.o.user) return this.url;
    return `rtsp://${encodeURIComponent(this.o.user)}:${encodeURIComponent(this.o.password ?? '')}@127.0.0.1:${this.port}/cam`;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  /** The server's output so far (for failure messages). */
  get output(): string[] {
    return this.proc?.output ?? [];
  }

  /** Starts the server (again) on the same port; resolves once it listens. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.proc) return;
    const fps = this.o.fps ?? 15;
    const args = [SCRIPT, '--port', String(this.port), '--file', this.o.file ?? RTSP_CAMERA_VIDEO, '--fps', String(fps), '--gop', String(this.o.gop ?? fps)];
    if (this.o.user) args.push('--user', this.o.user, '--password', this.o.password ?? '');
    const proc = spawnProcess(`rtsp-camera:${this.port}`, PYTHON, args);
    this.proc = proc;
    try {
      await proc.waitForLine((l) => l.startsWith('ready '), timeoutMs);
    } catch (err) {
      this.proc = undefined;
      await proc.stop();
      throw new Error(`RTSP camera did not start (is the GStreamer RTSP server installed? scripts/setup.sh): ${(err as Error).message}\n${proc.output.join('\n')}`);
    }
  }

  /** The camera goes away (its TCP connections drop). */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    await proc?.stop(3000);
  }

  /** The PID of the server (to exclude its own CPU from measurements). */
  get pid(): number | undefined {
    return this.proc?.child.pid;
  }
}
