import type { types } from 'mediasoup';

/** Codecs a room's router can offer: VP8 and H264 for video (both tapped), Opus for audio. */
const ALL_CODECS: types.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1, 'x-google-start-bitrate': 1000 },
  },
];

/** Opus plus the configured video codecs, in the configured order (the first is preferred). */
export function mediaCodecs(video: readonly string[]): types.RtpCodecCapability[] {
  const videoCodecs = video.map((name) => ALL_CODECS.find((c) => c.mimeType === `video/${name}`)!);
  return [ALL_CODECS[0]!, ...videoCodecs];
}
