// Chromium fake-camera publishers for the media benchmark, set up with the same testkit
// helpers as test/integration/sfu-webrtc.test.ts: the fixture video converted to y4m (in a temp
// dir, first 4 s; Chromium loops it), testkit's browser/publisher.ts bundled with esbuild and
// served from 127.0.0.1, one headless Chromium (/usr/bin/chromium via playwright-core) whose
// pages relay mediasoup-client signaling to the SFU over NATS (sfu.<instance>.<op>).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, serviceKit } from './lib.mjs';

const testkit = await import(path.join(ROOT, 'packages/testkit/dist/index.js'));
const { fakeCameraFile, launchChromium, servePublisherPage, sfuCall } = testkit;

export const CHROMIUM_FIXTURE = 'video/two-people-sequential-640x480-15fps.webm';
const Y4M_SECONDS = 4;

/**
 * Starts the page server and one Chromium. `close()` removes everything (browser, server,
 * temp dir) and is safe to call after a failed start or twice.
 */
export async function startChromiumPublishers({ nc, instance }) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-bench-chromium-'));
  let server;
  let browser;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await browser?.close().catch(() => {});
    await server?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const y4m = fakeCameraFile(CHROMIUM_FIXTURE, Y4M_SECONDS, tmp);
    server = await servePublisherPage();
    const pageUrl = server.url;

    const before = new Set(await chromiumChildren());
    browser = await launchChromium(y4m);
    const roots = (await chromiumChildren()).filter((pid) => !before.has(pid));
    if (roots.length !== 1) throw new Error(`expected one new Chromium process under this one, found ${roots.length}`);
    const [rootPid] = roots;

    return {
      y4mSeconds: Y4M_SECONDS,
      /** A new page (own renderer) whose window.signal relays to the SFU; `publish` resolves once the send transport is connected. */
      async openPage() {
        const page = await browser.newPage();
        await page.exposeFunction('signal', async (op, body) => {
          const reply = await sfuCall(nc, instance, op, body);
          if (!reply.ok) throw new Error(`${op}: ${reply.error.code}: ${reply.error.message}`);
          return reply.data;
        });
        await page.goto(pageUrl);
        return {
          publish: (opts) => page.evaluate((o) => globalThis.publish(o), opts),
          close: () => page.close().catch(() => {}),
        };
      },
      /** Every process of this Chromium (browser, zygotes, renderers, GPU/utility), the launcher script included. */
      async pids() {
        return serviceKit.descendantsIn(await serviceKit.processTable(), rootPid);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Direct children of this process named chromium (/usr/bin/chromium is a launcher script). */
function chromiumChildren() {
  return serviceKit.childPids(process.pid, 'chromium');
}
