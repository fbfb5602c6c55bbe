import { parseRoute } from './route';

/**
 * ICE options of the page's WebRTC transports: the TURN servers the gateway handed out with
 * the last join (short-lived credentials, renewed on every join), and the transport policy.
 * `relay=1` in the page's URL (`#/publish?room=…&relay=1`, or `?relay=1` before the `#`)
 * forces `iceTransportPolicy: 'relay'`: media only through TURN, for networks where the
 * SFU's own ports are blocked and for testing the TURN path. Without TURN servers it cannot
 * connect, and the Publish page falls back to JPEG upload.
 */
export interface TransportIce {
  iceServers: RTCIceServer[];
  iceTransportPolicy: RTCIceTransportPolicy;
}

export function relayOnly(): boolean {
  const on = (v: string | null) => v === '1' || v === 'true';
  return on(new URLSearchParams(location.search).get('relay')) || on(parseRoute().params.get('relay'));
}

export function transportIce(iceServers: readonly RTCIceServer[]): TransportIce {
  return { iceServers: iceServers.map((s) => ({ ...s })), iceTransportPolicy: relayOnly() ? 'relay' : 'all' };
}
