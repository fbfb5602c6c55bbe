import { execFile } from 'node:child_process';
import { LookoutError } from '@lookout/contracts';

export interface MediaFacts {
  durationMs: number;
  width?: number;
  height?: number;
  codec?: string;
}

/** ffprobe on a file that is not media answers within this; a huge file's header too. */
const PROBE_TIMEOUT_MS = 30_000;
/** Counting packets of a file without a duration in its header: demuxing only, still bounded. */
const MEASURE_TIMEOUT_MS = 120_000;

function run(bin: string, args: string[], timeoutMs: number): Promise<{ stdout: string; failed?: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve(err ? { stdout, failed: `${err.message.split('\n')[0]}${stderr ? `: ${stderr.trim().split('\n').at(-1)}` : ''}` } : { stdout });
    });
  });
}

interface ProbeJson {
  streams?: Array<{ codec_type?: string; codec_name?: string; width?: number; height?: number; duration?: string }>;
  format?: { duration?: string; format_name?: string };
}

/**
 * Formats ffmpeg reads as "video" that are not recordings: any text file (tty: ANSI art),
 * a single image or an image sequence (image2, png_pipe, jpeg_pipe, …).
 */
const NOT_RECORDINGS = /^(tty|image2|[a-z0-9]+_pipe)$/;

/** Parses ffprobe's JSON: the first video stream and the duration (format's, else the stream's). Pure. */
export function parseProbe(json: string): { video: boolean; durationMs?: number; width?: number; height?: number; codec?: string } {
  let p: ProbeJson;
  try {
    p = JSON.parse(json) as ProbeJson;
  } catch {
    return { video: false };
  }
  const v = p.streams?.find((s) => s.codec_type === 'video');
  if (!v || NOT_RECORDINGS.test(p.format?.format_name ?? '')) return { video: false };
  const seconds = [p.format?.duration, v.duration].map((d) => Number(d)).find((d) => Number.isFinite(d) && d > 0);
  return {
    video: true,
    ...(seconds !== undefined ? { durationMs: Math.round(seconds * 1000) } : {}),
    ...(v.width ? { width: v.width } : {}),
    ...(v.height ? { height: v.height } : {}),
    ...(v.codec_name ? { codec: v.codec_name } : {}),
  };
}

/** The last `out_time_us=` of ffmpeg's -progress output, in ms. Pure. */
export function parseProgressTime(progress: string): number | undefined {
  const all = [...progress.matchAll(/^out_time_us=(\d+)$/gm)];
  const last = all.at(-1);
  return last ? Math.round(Number(last[1]) / 1000) : undefined;
}

/**
 * What a job needs to know of its video before it is queued: that it has a video stream
 * ffmpeg can read, and how long it is (frames to sample, ETA, the capture times). A
 * recorded stream (a browser's MediaRecorder WebM) may carry no duration: its packets are
 * then read to the end without decoding. Not a video → LookoutError('not_video').
 */
export async function probeMedia(ffprobe: string, ffmpeg: string, file: string): Promise<MediaFacts> {
  const r = await run(ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,width,height,duration:format=duration,format_name', '-of', 'json', file], PROBE_TIMEOUT_MS);
  const p = parseProbe(r.stdout);
  if (r.failed || !p.video) throw new LookoutError('not_video', `video: ${r.failed ? 'ffprobe cannot read it' : 'it holds no video stream'}`, 'video');
  const facts = { ...(p.width ? { width: p.width } : {}), ...(p.height ? { height: p.height } : {}), ...(p.codec ? { codec: p.codec } : {}) };
  if (p.durationMs !== undefined) return { durationMs: p.durationMs, ...facts };
  const m = await run(ffmpeg, ['-nostdin', '-v', 'error', '-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-progress', 'pipe:1', '-nostats', '-'], MEASURE_TIMEOUT_MS);
  const durationMs = parseProgressTime(m.stdout);
  if (m.failed || !durationMs) throw new LookoutError('not_video', 'video: its duration cannot be read', 'video');
  return { durationMs, ...facts };
}
