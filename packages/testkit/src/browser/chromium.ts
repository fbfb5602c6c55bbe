import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { FIXTURES, ROOT } from '../services.js';
import type { PublisherPageApi } from './publisher-api.js';

export type { PublisherPageApi };

/** Headless Chromium as DESIGN.md prescribes: the system binary, no background traffic. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Converts the first `seconds` of a fixture video (path under FIXTURES) to y4m in `dir`, for Chromium's fake camera. */
export function fakeCameraFile(video: string, seconds: number, dir: string): string {
  const y4m = path.join(dir, `${path.basename(video, path.extname(video))}.y4m`);
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', path.join(FIXTURES, video), '-t', String(seconds), '-pix_fmt', 'yuv420p', y4m]);
  return y4m;
}

/** Chromium with a fake camera playing `y4m` (none without one: a page that needs no camera); loopback ICE allowed (the SFU listens on 127.0.0.1). */
export function launchChromium(y4m?: string): Promise<Browser> {
  const media = y4m ? ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`] : [];
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...media, '--allow-loopback-in-peer-connection'] });
}

/**
 * Serves browser/publisher.ts (mediasoup-client behind `window.signal`, bundled with
 * esbuild) on 127.0.0.1, for the SFU test and the media benchmark.
 */
export async function servePublisherPage(): Promise<{ url: string; close(): Promise<void> }> {
  const { build } = await import('esbuild');
  const bundle = await build({ entryPoints: [path.join(ROOT, 'packages/testkit/src/browser/publisher.ts')], bundle: true, format: 'iife', target: 'chrome110', write: false, logLevel: 'error' });
  const html = `<!doctype html><meta charset="utf-8"><title>publisher</title><script>${bundle.outputFiles[0]!.text}</script>`;
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
