// A reid replica restarting with a large gallery: lookout_gallery is filled with N subjects
// in the format reid writes (gallery-record.ts: one 512-dim embedding each, base64
// Float32), one real person (enrolled through reid) written last, then reid is started and
// timed: seconds to its "ready" log line, to /readyz 200 (the gallery index loaded), and
// what the frames of that real person get meanwhile (analysis with or without identity).
//   npm run bench -- gallery-restart      (or node bench/gallery-restart.mjs, after `npx tsc -b`)
// Knobs: BENCH_GALLERY_RESTART_SIZES (default 100000; 1000000 takes ~3 GB of store and
// about ten times as long to fill and load).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { ROOT, serviceKit, writeResult } from './lib.mjs';

const testkit = await import(path.join(ROOT, 'packages/testkit/dist/index.js'));
const contracts = await import(path.join(ROOT, 'packages/contracts/dist/index.js'));
const SIZES = (process.env.BENCH_GALLERY_RESTART_SIZES ?? '100000').split(',').map(Number);
const DIM = 512;
const face = fs.readFileSync(path.join(ROOT, 'test/fixtures/faces/identities/barack_obama/fr_obama1.jpg'));
const probe = fs.readFileSync(path.join(ROOT, 'test/fixtures/faces/identities/barack_obama/fr_obama2.jpg'));

function randomRecord(i, now) {
  const v = new Float32Array(DIM);
  let n = 0;
  for (let d = 0; d < DIM; d++) n += (v[d] = Math.random() - 0.5) ** 2;
  n = Math.sqrt(n);
  for (let d = 0; d < DIM; d++) v[d] /= n;
  const subjectId = `bench-${i}`;
  return {
    v: 1,
    subjectId,
    ref: randomBytes(16).toString('base64url'),
    name: `Subject ${i}`,
    metadata: {},
    createdMs: now,
    updatedMs: now,
    embeddings: [{ id: randomBytes(8).toString('base64url'), vector: Buffer.from(v.buffer).toString('base64'), createdMs: now }],
    negatives: [],
  };
}


async function run(size) {
  const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-gallery-restart-'));
  const nats = await testkit.startNatsServer([], { storeDir });
  const nc = await connect({ servers: nats.url, name: 'gallery-restart-bench' });
  try {
    const detector = await testkit.startService('detector', nats.url, { MAX_FRAME_AGE_MS: '10000' });
    // reid once, empty: it creates the buckets as the table says, and enrolls the real person.
    let reid = await testkit.startService('reid', nats.url);
    // Through service-kit's call, as every caller of an operation (it throws the reply's error).
    await serviceKit.call(nc, contracts.rpc.gallery.enroll, { subjectId: 'obama', name: 'Barack Obama', images: [face.toString('base64')] });
    await reid.stop();
    const kv = await new Kvm(nc).open(contracts.kvBuckets.gallery);
    const obama = (await kv.get('obama')).string();

    // Fill: pipelined puts, a window at a time.
    const t0 = Date.now();
    const now = Date.now();
    const WINDOW = 1000;
    for (let i = 0; i < size; i += WINDOW) {
      const puts = [];
      for (let j = i; j < Math.min(size, i + WINDOW); j++) puts.push(kv.put(`bench-${j}`, JSON.stringify(randomRecord(j, now))));
      await Promise.all(puts);
    }
    await kv.put('obama', obama); // written last: loaded last
    const fillS = (Date.now() - t0) / 1000;
    const status = await kv.status();
    const storeBytes = status.size;
    console.log(`gallery-restart ${size}: filled in ${fillS.toFixed(1)} s (${(storeBytes / 2 ** 20).toFixed(0)} MiB in the stream)`);

    // Frames of the real person all along the restart; analysis recorded with its identity.
    const analysis = [];
    const sub = nc.subscribe('analysis.restart.>', {
      callback: (_err, m) => {
        const a = JSON.parse(new TextDecoder().decode(m.data));
        analysis.push({ at: Date.now(), seq: a.seq, identities: (a.faces ?? []).map((f) => f.identity?.subjectId ?? null) });
      },
    });
    const frames = new testkit.FramePublisher(nc);
    let seq = 0;
    const pump = setInterval(() => frames.publish('restart', 'cam-1', probe, { seq: seq++ }), 250);
    const [httpPort] = await testkit.freePorts(1);
    const started = Date.now();
    const ready = (async () => {
      for (;;) {
        try {
          const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
          if (res.status === 200) return Date.now();
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    reid = await testkit.startService('reid', nats.url, { HTTP_PORT: String(httpPort), MAX_FRAME_AGE_MS: '10000' }, { readyTimeoutMs: 1_800_000 });
    const logReadyAt = Date.now();
    const readyAt = await ready;
    await new Promise((r) => setTimeout(r, 3000));
    clearInterval(pump);
    await new Promise((r) => setTimeout(r, 1000));
    sub.unsubscribe();
    const rss = await (await import(path.join(ROOT, 'packages/service-kit/dist/index.js'))).processRssBytes(reid.child.pid);
    const metrics = (await reid.get('/metrics')).body;
    await reid.stop();
    await detector.stop();

    const before = analysis.filter((a) => a.at < readyAt);
    const after = analysis.filter((a) => a.at >= readyAt);
    const named = (list) => list.filter((a) => a.identities.includes('obama')).length;
    const result = {
      size,
      fillSeconds: +fillS.toFixed(1),
      storeMiB: +(storeBytes / 2 ** 20).toFixed(0),
      secondsToReadyLog: +((logReadyAt - started) / 1000).toFixed(1),
      secondsToReadyz: +((readyAt - started) / 1000).toFixed(1),
      framesPublished: seq,
      analysisBeforeReadyz: before.length,
      analysisBeforeReadyzNamed: named(before),
      analysisAfterReadyz: after.length,
      analysisAfterReadyzNamed: named(after),
      reidRssMiB: rss ? Math.round(rss / 2 ** 20) : null,
      gallerySubjects: testkit.metricValue(metrics, 'lookout_reid_gallery_subjects'),
    };
    console.log(`gallery-restart ${size}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await nc.close();
    await testkit.stopAllProcesses();
    await nats.stop();
    fs.rmSync(storeDir, { recursive: true, force: true });
  }
}

const results = [];
for (const size of SIZES) results.push(await run(size));
console.log(`results: ${writeResult('gallery-restart', { sizes: results })}`);
