import type { types } from 'mediasoup';

/**
 * SDP that tells ffmpeg where the tap's RTP arrives and how to depacketise it. RTCP goes to
 * rtpPort + 1 (ffmpeg's convention for a=rtcp-less SDP matches the plain transport we
 * connect with rtcpMux off).
 */
export function sdpForConsumer(rtp: types.RtpParameters, rtpPort: number): string {
  const codec = rtp.codecs[0];
  if (!codec) throw new Error('consumer has no codec');
  const name = codec.mimeType.split('/')[1]!;
  const fmtp = Object.entries(codec.parameters ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(';');
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=lookout-tap',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=video ${rtpPort} RTP/AVP ${codec.payloadType}`,
    `a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}`,
    ...(fmtp ? [`a=fmtp:${codec.payloadType} ${fmtp}`] : []),
    'a=recvonly',
    '',
  ].join('\r\n');
}
