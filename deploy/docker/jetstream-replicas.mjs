// Raises Lookout's JetStream streams (KV buckets included) to REPLICAS replicas, keeping
// their data and the rest of their configuration. The services create their buckets on
// first use with one replica and use an existing bucket as it is; on a 3-node NATS cluster
// this job makes them R3. Idempotent: streams already at REPLICAS are left alone. Run by
// the Kubernetes prod overlay's CronJob (deploy/k8s/overlays/prod/jetstream-replicas.yaml).
// Talks to the JetStream API directly: `nats stream edit` asks for a confirmation on KV
// streams and `nats kv edit` would reset their TTL and history.
//   NATS_URL, NATS_USER, NATS_PASSWORD   where and as whom (credentials optional)
//   REPLICAS                             default 3
//   STREAM_PREFIXES                      default KV_lookout_,lookout (case-insensitive)
import { connect } from '@nats-io/transport-node';

const replicas = Number(process.env.REPLICAS ?? 3);
const prefixes = (process.env.STREAM_PREFIXES ?? 'KV_lookout_,lookout')
  .split(',')
  .map((p) => p.trim().toLowerCase())
  .filter(Boolean);
const servers = (process.env.NATS_URL ?? 'nats://127.0.0.1:4222').split(',').map((s) => s.trim());
if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
  console.error(`jetstream-replicas: REPLICAS must be 1..5, got ${process.env.REPLICAS}`);
  process.exit(2);
}

const nc = await connect({
  servers,
  name: 'lookout-jetstream-replicas',
  ...(process.env.NATS_USER ? { user: process.env.NATS_USER, pass: process.env.NATS_PASSWORD ?? '' } : {}),
});

async function api(subject, body) {
  const msg = await nc.request(`$JS.API.${subject}`, body === undefined ? '' : JSON.stringify(body), { timeout: 10_000 });
  const res = msg.json();
  if (res.error) throw new Error(`${subject}: ${res.error.description} (${res.error.err_code ?? res.error.code})`);
  return res;
}

let failed = 0;
try {
  const names = [];
  for (;;) {
    const page = await api('STREAM.NAMES', { offset: names.length });
    names.push(...(page.streams ?? []));
    if (!page.streams?.length || names.length >= page.total) break;
  }
  for (const name of names.filter((n) => prefixes.some((p) => n.toLowerCase().startsWith(p)))) {
    const info = await api(`STREAM.INFO.${name}`);
    const current = info.config.num_replicas ?? 1;
    if (current >= replicas) continue;
    try {
      await api(`STREAM.UPDATE.${name}`, { ...info.config, num_replicas: replicas });
      console.log(`jetstream-replicas: ${name}: ${current} → ${replicas} replicas`);
    } catch (err) {
      failed++;
      console.error(`jetstream-replicas: ${name}: ${err.message}`);
    }
  }
} finally {
  await nc.drain();
}
process.exit(failed === 0 ? 0 : 1);
