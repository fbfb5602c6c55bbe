import { execFile } from 'node:child_process';
import type { types } from 'mediasoup';
import { h264Profile, parseHexdump, profileLevelIdFromExtradata, profileLevelIdFromName, routeH264 } from './h264-profile.js';

/**
 * Whether an ingest can send its source's video as it is (`-c:v copy`) instead of decoding
 * and encoding it again. Encoding VP8 costs ~8% of a core per stream (docs/performance.md,
 * media bench) where copying costs almost nothing, so a source whose video the router can
 * route is passed through: VP8, or H.264 of a profile the router offers (cameras: H.264
 * constrained baseline) — but only when its keyframes come often enough: nobody can ask
 * ffmpeg's source for a keyframe (it ignores PLI), and the tap, a viewer joining late, and
 * a tap restarted after a stall each wait for the next one.
 */
export interface SourceFacts {
  /** ffprobe's codec_name of the first video stream (e.g. vp8, h264); undefined: no video. */
  codec: string | undefined;
  /** H.264: the profile-level-id of its SPS (e.g. 42e01f), when it could be read. */
  profileLevelId?: string;
  /** Presentation times (s) of the key packets read, in order. */
  keyTimes: number[];
  /** Times (s) of the first and the last packet read. */
  firstTime: number;
  lastTime: number;
  /** Whether the probe read the file to its end (a looped file then wraps to its first keyframe). */
  readAll: boolean;
}

/** The path a stream takes into the SFU, and why (shown in its room info: contracts StreamIngest). */
export interface IngestMode {
  mode: 'copy' | 'encode';
  /** What the SFU routes: the source's own codec when copied, VP8 when encoded. */
  codec: 'VP8' | 'H264';
  /** The source's codec as ffprobe names it (h264, vp8, hevc...), when known. */
  sourceCodec?: string;
  /** H.264 copied: the fmtp parameters the producer carries. */
  profileLevelId?: string;
  packetizationMode?: 0 | 1;
  why: string;
}

/** The longest wait for a keyframe a passed-through file may impose. */
export const MAX_KEYFRAME_GAP_S = 2;
/** How much of a file the probe reads: enough to see a pattern, cheap on a long file. */
export const PROBE_READ_S = 20;
/** How much of a live camera the probe reads: it delays the start by that much, so one GOP of most cameras (1–2 s) and some. */
export const PROBE_LIVE_S = 3;

export interface ChooseOptions {
  /** The router's codecs (router.rtpCapabilities.codecs): what it can route. */
  routerCodecs: readonly types.RtpCodecCapability[];
  /** A live camera: only the window read is known, so at least one keyframe in it is required. */
  live?: boolean;
  maxGapS?: number;
}

/** The longest wait for a keyframe in what was read (a loop's wrap included), or undefined with no keyframe. */
export function keyframeGap(f: SourceFacts): number | undefined {
  const keys = f.keyTimes;
  if (keys.length === 0) return undefined;
  // Before the first keyframe nothing can be shown; after the last one the wait runs to the
  // end and, on a loop, on to the first keyframe again.
  const lead = keys[0]! - f.firstTime;
  let gap = lead;
  for (let i = 1; i < keys.length; i++) gap = Math.max(gap, keys[i]! - keys[i - 1]!);
  return Math.max(gap, f.lastTime - keys.at(-1)! + (f.readAll ? lead : 0));
}

/** Pure: copy what the router routes and whose keyframes come often enough; encode to VP8 the rest, saying why. */
export function chooseIngestMode(f: SourceFacts, o: ChooseOptions): IngestMode {
  const encode = (why: string): IngestMode => ({ mode: 'encode', codec: 'VP8', ...(f.codec ? { sourceCodec: f.codec } : {}), why });
  const routes = (mime: string) => o.routerCodecs.some((c) => c.mimeType.toLowerCase() === mime);
  let copy: IngestMode;
  if (f.codec === 'vp8') {
    if (!routes('video/vp8')) return encode('VP8 is not among the router\'s codecs (VIDEO_CODECS)');
    copy = { mode: 'copy', codec: 'VP8', sourceCodec: 'vp8', why: 'VP8, routed as it is' };
  } else if (f.codec === 'h264') {
    if (!routes('video/h264')) return encode('H.264 is not among the router\'s codecs (VIDEO_CODECS)');
    const plid = f.profileLevelId;
    if (!plid) return encode('H.264 whose profile could not be read');
    const route = routeH264(o.routerCodecs, plid);
    if (!route) return encode(`H.264 ${h264Profile(plid)} (${plid}): the router has no codec of that profile`);
    copy = { mode: 'copy', codec: 'H264', sourceCodec: 'h264', ...route, why: `H.264 ${h264Profile(plid)} (${plid}), routed as it is` };
  } else {
    return encode(`video is ${f.codec ?? 'missing'}, which the router cannot route`);
  }
  const gap = keyframeGap(f);
  if (gap === undefined) return encode(o.live ? `no keyframe within ${PROBE_LIVE_S} s` : 'no keyframe found');
  const maxGapS = o.maxGapS ?? MAX_KEYFRAME_GAP_S;
  // A camera's window starts anywhere in its GOP: only "there is a keyframe in it" says anything.
  if (!o.live && gap > maxGapS) return encode(`keyframes up to ${gap.toFixed(1)} s apart (at most ${maxGapS} s for copying)`);
  return copy;
}

/**
 * Parses `ffprobe -show_entries stream=codec_name,profile,level,extradata:format=duration:packet=pts_time,flags -show_data -of json`
 * of the first `readS` seconds. Tolerant of what a given ffprobe leaves out (N/A times,
 * missing format, no extradata).
 */
export function parseProbe(json: string, readS: number): SourceFacts {
  const out = JSON.parse(json) as {
    streams?: Array<{ codec_name?: string; profile?: string; level?: number; extradata?: string }>;
    packets?: Array<{ pts_time?: string; flags?: string }>;
    format?: { duration?: string };
  };
  const packets = (out.packets ?? []).map((p) => ({ t: Number(p.pts_time), key: p.flags?.includes('K') ?? false })).filter((p) => Number.isFinite(p.t));
  const times = packets.map((p) => p.t);
  const firstTime = times.length ? Math.min(...times) : 0;
  const lastTime = times.length ? Math.max(...times) : 0;
  const duration = Number(out.format?.duration);
  const stream = out.streams?.[0];
  const profileLevelId =
    stream?.codec_name === 'h264'
      ? (stream.extradata ? profileLevelIdFromExtradata(parseHexdump(stream.extradata)) : undefined) ?? profileLevelIdFromName(stream.profile, stream.level)
      : undefined;
  return {
    codec: stream?.codec_name,
    ...(profileLevelId ? { profileLevelId } : {}),
    keyTimes: packets.filter((p) => p.key).map((p) => p.t).sort((a, b) => a - b),
    firstTime,
    lastTime,
    readAll: Number.isFinite(duration) && duration <= readS,
  };
}

/**
 * The probe's deadline. A camera's probe lasts at least PROBE_LIVE_S (it reads live video)
 * after the connection (up to the 5 s socket timeout) and stream analysis; ~3.4 s on an idle
 * 2-core machine, but a camera server building its pipeline for a first client on a busy one
 * took past 12 s. Whoever waits for an ingest (contracts rpc.sfu.ingest) waits longer than
 * this plus the first packets' deadline.
 */
export const PROBE_TIMEOUT_MS = { rtsp: 25_000, file: 12_000 } as const;

/** Reads the first seconds of a source's first video stream's packets (no decoding): PROBE_READ_S of a file, PROBE_LIVE_S of a camera. */
export function probeSource(ffprobePath: string, source: { kind: 'rtsp' | 'file'; input: string }, timeoutMs: number = PROBE_TIMEOUT_MS[source.kind]): Promise<SourceFacts> {
  const readS = source.kind === 'rtsp' ? PROBE_LIVE_S : PROBE_READ_S;
  const args = [
    '-v', 'error',
    ...(source.kind === 'rtsp' ? ['-rtsp_transport', 'tcp', '-timeout', '5000000'] : []),
    '-select_streams', 'v:0', '-read_intervals', `%+${readS}`,
    '-show_entries', 'stream=codec_name,profile,level,extradata:format=duration:packet=pts_time,flags', '-show_data', '-of', 'json', source.input,
  ];
  return new Promise((resolve, reject) => {
    execFile(ffprobePath, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      // Killed at the deadline, ffprobe has said nothing: say what happened instead.
      if (err && (err as { killed?: boolean }).killed) return reject(new Error(`ffprobe read no ${readS} s of video within ${timeoutMs / 1000} s`));
      if (err) return reject(err);
      try {
        resolve(parseProbe(stdout, readS));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}
