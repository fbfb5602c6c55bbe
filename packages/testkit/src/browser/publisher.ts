// A page script, never run by Node: bundled with esbuild by servePublisherPage (chromium.ts)
// for Chromium in test/integration/sfu-webrtc.test.ts and the media benchmark. Publishes the
// (fake) camera into a room through the SFU's signaling API, which the test relays to NATS
// via window.signal.
import { Device } from 'mediasoup-client';
import type {} from './publisher-api.js';

window.publish = async ({ room, stream, peer, codec }) => {
  const device = await Device.factory();
  const routerRtpCapabilities = await window.signal('getRouterRtpCapabilities', { room });
  await device.load({ routerRtpCapabilities: routerRtpCapabilities as never });
  const params = (await window.signal('createWebRtcTransport', { room, peer, direction: 'send' })) as { id: string };
  const transport = device.createSendTransport(params as never);
  transport.on('connect', ({ dtlsParameters }, done, fail) => {
    window.signal('connectTransport', { room, transportId: params.id, dtlsParameters }).then(() => done(), fail);
  });
  transport.on('produce', ({ kind, rtpParameters }, done, fail) => {
    window.signal('produce', { room, peer, transportId: params.id, stream, kind, rtpParameters }).then((r) => done(r as { id: string }), fail);
  });
  const connected = new Promise<string>((resolve) => {
    transport.on('connectionstatechange', (state) => {
      if (state === 'connected' || state === 'failed') resolve(state);
    });
  });
  const media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  const track = media.getVideoTracks()[0]!;
  // 'detail' and a high start bitrate: Chrome otherwise starts at 320×240 while it ramps up.
  track.contentHint = 'detail';
  const chosen = device.rtpCapabilities.codecs!.find((c) => c.mimeType.toLowerCase() === `video/${codec.toLowerCase()}`);
  if (!chosen) throw new Error(`this browser cannot send ${codec}`);
  const producer = await transport.produce({ track, codec: chosen, codecOptions: { videoGoogleStartBitrate: 1000 } });
  return { connectionState: await connected, handler: device.handlerName, codec: producer.rtpParameters.codecs[0]!.mimeType, producerId: producer.id };
};

/** A dashboard viewer: consumes one producer and resolves once a video element shows it. */
window.watch = async ({ room, peer, producerId }) => {
  const device = await Device.factory();
  await device.load({ routerRtpCapabilities: (await window.signal('getRouterRtpCapabilities', { room })) as never });
  const params = (await window.signal('createWebRtcTransport', { room, peer, direction: 'recv' })) as { id: string };
  const transport = device.createRecvTransport(params as never);
  transport.on('connect', ({ dtlsParameters }, done, fail) => {
    window.signal('connectTransport', { room, transportId: params.id, dtlsParameters }).then(() => done(), fail);
  });
  const c = (await window.signal('consume', { room, peer, transportId: params.id, producerId, rtpCapabilities: device.rtpCapabilities })) as {
    id: string;
    kind: 'video';
    rtpParameters: never;
  };
  const consumer = await transport.consume({ id: c.id, producerId, kind: c.kind, rtpParameters: c.rtpParameters });
  await window.signal('resumeConsumer', { room, consumerId: c.id });
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([consumer.track]);
  document.body.append(video);
  await video.play();
  await new Promise<void>((resolve) => video.requestVideoFrameCallback(() => resolve()));
  const stats = video.getVideoPlaybackQuality();
  return { width: video.videoWidth, height: video.videoHeight, framesDecoded: stats.totalVideoFrames };
};
