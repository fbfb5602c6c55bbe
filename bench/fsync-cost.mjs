#!/usr/bin/env node
// What `jetstream { sync_interval: always }` would cost a KV put here (docs/resilience.md).
// The nats-server Debian ships (2.9.10) has no sync_interval (2.10+), so this measures the
// two parts: a KV put's round trip on the installed server (default: fsync every 2 min),
// and a small append + fdatasync on the same filesystem (what "always" adds to each write,
// per message, on the stream's leader — and on each follower before it acks in a cluster).
//   node bench/fsync-cost.mjs          (after `npx tsc -b`)
// Knobs: FSYNC_COST_N (puts and syncs, default 2000), FSYNC_COST_DIR (default: the OS temp dir).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startNatsServer, stopAllProcesses } = await import(path.join(ROOT, 'packages/testkit/dist/index.js'));
const { connect } = await import('@nats-io/transport-node');
const { Kvm } = await import('@nats-io/kv');

const N = Number(process.env.FSYNC_COST_N ?? 2000);
const dir = fs.mkdtempSync(path.join(process.env.FSYNC_COST_DIR ?? os.tmpdir(), 'lookout-fsync-'));
const value = JSON.stringify({ v: 1, pad: 'x'.repeat(3000) }); // about one gallery record with one embedding

const stats = (ms) => {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: +q(0.5).toFixed(3), p95: +q(0.95).toFixed(3), p99: +q(0.99).toFixed(3), mean: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(3) };
};
const timed = async (fn) => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};

const nats = await startNatsServer([], { storeDir: path.join(dir, 'nats') });
const nc = await connect({ servers: nats.url });
const kv = await new Kvm(nc).create('fsync_cost', { history: 1 });
for (let i = 0; i < 100; i++) await kv.put(`w${i}`, value);
const puts = [];
for (let i = 0; i < N; i++) puts.push(await timed(() => kv.put(`k${i % 500}`, value)));
await nc.close();
await nats.stop();
await stopAllProcesses();

const fd = fs.openSync(path.join(dir, 'sync.blk'), 'a');
const buf = Buffer.from(value);
const syncs = [];
for (let i = 0; i < N; i++) {
  syncs.push(
    await timed(() => {
      fs.writeSync(fd, buf);
      fs.fdatasyncSync(fd);
    }),
  );
}
fs.closeSync(fd);
fs.rmSync(dir, { recursive: true, force: true });

const put = stats(puts);
const sync = stats(syncs);
console.log(JSON.stringify({ server: 'nats-server (installed)', n: N, valueBytes: buf.length, kvPutMs: put, appendFdatasyncMs: sync, estimatedPutWithSyncAlwaysMs: { p50: +(put.p50 + sync.p50).toFixed(3), p95: +(put.p95 + sync.p95).toFixed(3) } }, null, 2));
