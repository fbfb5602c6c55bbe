import { execFile } from 'node:child_process';

/**
 * Whether an ingest can send its source's video as it is (`-c:v copy`) instead of decoding
 * and encoding it again. Encoding VP8 costs ~8% of a core per stream (docs/performance.md,
 * media bench) where copying costs almost nothing, so a file that is already VP8 is worth
 * passing through — but only when its keyframes come often enough: nobody can ask a file
 * for a keyframe (ffmpeg ignores PLI), and the tap, a viewer joining late, and a tap
 * restarted after a stall each wait for the next one.
 */
export interface SourceFacts {
  /** ffprobe's codec_name of the first video stream (e.g. vp8, h264); undefined: no video. */
  codec: string | undefined;
  /** Presentation times (s) of the key packets read, in order. */
  keyTimes: number[];
  /** Times (s) of the first and the last packet read. */
  firstTime: number;
  lastTime: number;
  /** Whether the probe read the file to its end (a looped file then wraps to its first keyframe). */
  readAll: boolean;
}

export type IngestMode = { mode: 'copy' } | { mode: 'encode'; why: string };

/** The longest wait for a keyframe a passed-through source may impose. */
export const MAX_KEYFRAME_GAP_S = 2;
/** How much of the file the probe reads: enough to see a pattern, cheap on a long file. */
export const PROBE_READ_S = 20;

/** Pure: copy when the video is VP8 and no two keyframes (a loop's wrap included) are further apart than `maxGapS`. */
export function chooseIngestMode(f: SourceFacts, maxGapS = MAX_KEYFRAME_GAP_S): IngestMode {
  if (f.codec !== 'vp8') return { mode: 'encode', why: `video is ${f.codec ?? 'missing'}, not VP8` };
  const keys = f.keyTimes;
  if (keys.length === 0) return { mode: 'encode', why: 'no keyframe found' };
  // Before the first keyframe nothing can be shown; after the last one the wait runs to the
  // end and, on a loop, on to the first keyframe again.
  const lead = keys[0]! - f.firstTime;
  let gap = lead;
  for (let i = 1; i < keys.length; i++) gap = Math.max(gap, keys[i]! - keys[i - 1]!);
  gap = Math.max(gap, f.lastTime - keys.at(-1)! + (f.readAll ? lead : 0));
  if (gap > maxGapS) return { mode: 'encode', why: `keyframes up to ${gap.toFixed(1)} s apart (at most ${maxGapS} s for copying)` };
  return { mode: 'copy' };
}

/**
 * Parses `ffprobe -show_entries stream=codec_name:format=duration:packet=pts_time,flags -of json`
 * of the first `readS` seconds. Tolerant of what a given ffprobe leaves out (N/A times,
 * missing format).
 */
export function parseProbe(json: string, readS: number): SourceFacts {
  const out = JSON.parse(json) as {
    streams?: Array<{ codec_name?: string }>;
    packets?: Array<{ pts_time?: string; flags?: string }>;
    format?: { duration?: string };
  };
  const packets = (out.packets ?? []).map((p) => ({ t: Number(p.pts_time), key: p.flags?.includes('K') ?? false })).filter((p) => Number.isFinite(p.t));
  const times = packets.map((p) => p.t);
  const firstTime = times.length ? Math.min(...times) : 0;
  const lastTime = times.length ? Math.max(...times) : 0;
  const duration = Number(out.format?.duration);
  return {
    codec: out.streams?.[0]?.codec_name,
    keyTimes: packets.filter((p) => p.key).map((p) => p.t).sort((a, b) => a - b),
    firstTime,
    lastTime,
    readAll: Number.isFinite(duration) && duration <= readS,
  };
}

/** Reads the first PROBE_READ_S s of a file's first video stream's packets (no decoding). */
export function probeSource(ffprobePath: string, file: string, timeoutMs = 10_000): Promise<SourceFacts> {
  const args = [
    '-v', 'error', '-select_streams', 'v:0', '-read_intervals', `%+${PROBE_READ_S}`,
    '-show_entries', 'stream=codec_name:format=duration:packet=pts_time,flags', '-of', 'json', file,
  ];
  return new Promise((resolve, reject) => {
    execFile(ffprobePath, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err);
      try {
        resolve(parseProbe(stdout, PROBE_READ_S));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}
