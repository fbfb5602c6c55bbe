import type { types } from 'mediasoup';

/**
 * H.264 profiles as RTP negotiates them (RFC 6184 profile-level-id: profile_idc,
 * constraint flags, level_idc as 6 hex digits). mediasoup forwards an H.264 producer only
 * to a router codec of the same profile (the level may differ) and packetization mode, so
 * whether a camera can be passed through is a matter of its SPS's first three bytes.
 */
export type H264Profile = 'constrained-baseline' | 'baseline' | 'main' | 'extended' | 'high' | 'constrained-high' | 'other';

/** profile_idc, then the constraint-flags byte as a pattern (x = either), most specific first (RFC 6184 §8.1, as libwebrtc reads it). */
const PROFILES: Array<[number, string, H264Profile]> = [
  [0x42, 'x1xx0000', 'constrained-baseline'],
  [0x4d, '1xxx0000', 'constrained-baseline'],
  [0x58, '11xx0000', 'constrained-baseline'],
  [0x42, 'x0xx0000', 'baseline'],
  [0x58, '10xx0000', 'baseline'],
  [0x4d, '0x0x0000', 'main'],
  [0x58, '00xx0000', 'extended'],
  [0x64, '00000000', 'high'],
  [0x64, '00001100', 'constrained-high'],
];

const matches = (byte: number, pattern: string): boolean =>
  [...pattern].every((c, i) => c === 'x' || ((byte >> (7 - i)) & 1) === Number(c));

/** The profile of a profile-level-id ("42e01f"); `other` for one no browser negotiates. */
export function h264Profile(profileLevelId: string): H264Profile {
  if (!/^[0-9a-f]{6}$/i.test(profileLevelId)) return 'other';
  const idc = parseInt(profileLevelId.slice(0, 2), 16);
  const iop = parseInt(profileLevelId.slice(2, 4), 16);
  return PROFILES.find(([i, p]) => i === idc && matches(iop, p))?.[2] ?? 'other';
}

const hex = (bytes: number[]): string => bytes.map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * The profile-level-id of an H.264 stream's decoder configuration (its extradata): Annex B
 * (00 00 01 then the SPS NAL, as RTSP's sprop-parameter-sets give it) or avcC (MP4: a 1,
 * then the same three bytes). undefined when there is no SPS in it.
 */
export function profileLevelIdFromExtradata(bytes: Uint8Array): string | undefined {
  if (bytes.length >= 4 && bytes[0] === 1) return hex([bytes[1]!, bytes[2]!, bytes[3]!]);
  for (let i = 0; i + 6 < bytes.length; i++) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1 && (bytes[i + 3]! & 0x1f) === 7) return hex([bytes[i + 4]!, bytes[i + 5]!, bytes[i + 6]!]);
  }
  return undefined;
}

/** The bytes of ffprobe's `-show_data` hexdump ("00000000: 0142 c00c ...  .B.."). */
export function parseHexdump(dump: string): Uint8Array {
  const out: number[] = [];
  for (const line of dump.split('\n')) {
    const m = /^[0-9a-f]{8}: (.{1,39})/i.exec(line);
    if (!m) continue;
    // The hex columns are 8 groups of 4 digits; the ASCII column starts after two spaces.
    const cols = m[1]!.split('  ')[0]!.replace(/\s/g, '');
    for (let i = 0; i + 1 < cols.length; i += 2) out.push(parseInt(cols.slice(i, i + 2), 16));
  }
  return Uint8Array.from(out);
}

/** A profile-level-id from ffprobe's profile name and level, for a source without extradata. */
export function profileLevelIdFromName(profile: string | undefined, level: number | undefined): string | undefined {
  const head: Record<string, string> = { 'Constrained Baseline': '42e0', Baseline: '4200', Main: '4d00', Extended: '5800', High: '6400' };
  const h = profile ? head[profile] : undefined;
  if (!h || level === undefined || !Number.isInteger(level) || level <= 0 || level > 255) return undefined;
  return h + level.toString(16).padStart(2, '0');
}

/** How an H.264 source is produced into the router: its fmtp parameters. */
export interface H264Route {
  packetizationMode: 0 | 1;
  /** The source's own profile-level-id (mediasoup matches the profile; the level is the source's). */
  profileLevelId: string;
}

/**
 * The router codec that can carry this source's H.264, if any: same profile. ffmpeg
 * packetises the RTP itself, so the packetization mode is the router's (mode 1 preferred:
 * mode 0 cannot carry a NAL unit larger than a packet).
 */
export function routeH264(routerCodecs: readonly types.RtpCodecCapability[], profileLevelId: string): H264Route | undefined {
  const profile = h264Profile(profileLevelId);
  if (profile === 'other') return undefined;
  const same = routerCodecs.filter(
    (c) => c.mimeType.toLowerCase() === 'video/h264' && h264Profile(String(c.parameters?.['profile-level-id'] ?? '42001f')) === profile,
  );
  const mode = (c: types.RtpCodecCapability): number => Number(c.parameters?.['packetization-mode'] ?? 0);
  const best = same.find((c) => mode(c) === 1) ?? same[0];
  if (!best) return undefined;
  return { packetizationMode: mode(best) === 1 ? 1 : 0, profileLevelId: profileLevelId.toLowerCase() };
}
