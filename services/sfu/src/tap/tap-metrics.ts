import { Counter, Gauge, Histogram, type Registry } from '@lookout/service-kit';

/** Metrics shared by every frame tap of an SFU instance. */
export class TapMetrics {
  readonly framesPublished: Counter<'room'>;
  readonly ffmpegRestarts: Counter<'kind'>;
  readonly tapFailures: Counter<'reason'>;
  readonly framesDropped: Counter<'reason'>;
  readonly timeToFirstFrame: Histogram;
  readonly ingestsStarted: Counter<'mode' | 'codec'>;
  private readonly cpuSources = new Set<() => Promise<number>>();
  private finishedCpu = 0;

  constructor(registry: Registry) {
    const registers = [registry];
    this.framesPublished = new Counter({ name: 'lookout_sfu_frames_published_total', help: 'JPEG frames published on NATS', labelNames: ['room'], registers });
    this.ffmpegRestarts = new Counter({ name: 'lookout_sfu_ffmpeg_restarts_total', help: 'ffmpeg processes restarted after exiting on their own', labelNames: ['kind'], registers });
    this.tapFailures = new Counter({
      name: 'lookout_sfu_tap_failures_total',
      help: 'Frame tap failures, each followed by a retry with backoff (reason: no_port, setup, spawn, exited, no_frames, stalled, frozen, flooding)',
      labelNames: ['reason'],
      registers,
    });
    this.framesDropped = new Counter({
      name: 'lookout_sfu_tap_frames_dropped_total',
      help: "JPEGs from a tap's ffmpeg not published (reason: too_fast = over the room's rate, frozen = a copy of a picture found frozen)",
      labelNames: ['reason'],
      registers,
    });
    this.ingestsStarted = new Counter({
      name: 'lookout_sfu_ingests_started_total',
      help: 'Ingests started, by mode: copy (the source sent as it is) or encode (decoded and encoded to VP8); codec: what the SFU routes (VP8, H264)',
      labelNames: ['mode', 'codec'],
      registers,
    });
    this.timeToFirstFrame = new Histogram({
      name: 'lookout_sfu_tap_first_frame_seconds',
      help: 'Time from starting a tap to its first JPEG',
      buckets: [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
      registers,
    });
    const sources = this.cpuSources;
    const finished = () => this.finishedCpu;
    new Gauge({
      name: 'lookout_sfu_ffmpeg_cpu_seconds',
      help: 'CPU seconds used by ffmpeg (taps and ingests), including finished processes',
      registers,
      async collect() {
        const live = await Promise.all([...sources].map((s) => s()));
        this.set(finished() + live.reduce((a, b) => a + b, 0));
      },
    });
  }

  /**
   * Tracks a running ffmpeg's CPU; call the returned function (async) when it stops, before
   * it is reaped if possible. A process that is already gone reads as 0, so the last value
   * read (at a scrape, or that final call) is what it is counted with.
   */
  trackCpu(read: () => Promise<number>): () => Promise<void> {
    let last = 0;
    const sample = async () => (last = Math.max(last, await read()));
    this.cpuSources.add(sample);
    return async () => {
      if (!this.cpuSources.delete(sample)) return;
      await sample();
      this.finishedCpu += last;
    };
  }
}
