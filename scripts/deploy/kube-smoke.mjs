#!/usr/bin/env node
// Kubernetes smoke test with podman (issue 19): renders both overlays with the real kubectl
// kustomize (scripts/validate-deploy.mjs --fetch-tools installs it), then runs what
// `podman kube play` 4.3 can run from the dev overlay: the detector (2 replicas), reid and
// gateway Deployments as pods, against a NATS pod, and checks every one gets ready (its
// /readyz, from inside the pod: kube play honours no readiness probe).
//
//   node scripts/deploy/kube-smoke.mjs          (after scripts/deploy/build-images.sh)
//
// What podman 4.3 cannot run, and this therefore does not: Services (ignored: NATS is
// reached by the pod's IP, written into NATS_URL), Secrets and ConfigMaps by reference
// (their values, rendered by kustomize, are written into each container's env), container
// ports (podman would publish each on the host), probes (podman 4.3 makes an httpGet probe a
// `curl || kill 1` healthcheck, and the images have no curl), the SFU
// DaemonSet (no DaemonSets; host network), HPA, PDBs, NetworkPolicies, probes, the prod
// overlay's Ingress and CronJob. Those are validated offline only (scripts/validate-deploy.mjs).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'lookout-deploy');
const NET = 'lookout-kube-smoke';
const log = (m) => process.stdout.write(`[kube-smoke] ${m}\n`);

const podmanEnv = { ...process.env };
for (const m of execFileSync('bash', [path.join(ROOT, 'scripts/deploy/podman-env.sh'), 'env'], { encoding: 'utf8' }).matchAll(/^export (\w+)=(.*)$/gm)) podmanEnv[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
const podman = (args, opts = {}) => {
  const r = spawnSync('podman', args, { env: podmanEnv, encoding: 'utf8', maxBuffer: 32 * 2 ** 20 });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`podman ${args.join(' ')}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
};

const kubectl = fs.readdirSync(CACHE).filter((f) => f.startsWith('kubectl-')).map((f) => path.join(CACHE, f))[0];
if (!kubectl) throw new Error('no kubectl: run node scripts/validate-deploy.mjs --fetch-tools');

// 1. Render every overlay.
const rendered = {};
for (const overlay of fs.readdirSync(path.join(ROOT, 'deploy/k8s/overlays'))) {
  const docs = YAML.parseAllDocuments(execFileSync(kubectl, ['kustomize', path.join(ROOT, 'deploy/k8s/overlays', overlay)], { encoding: 'utf8' })).map((d) => d.toJS()).filter(Boolean);
  rendered[overlay] = docs;
  const kinds = {};
  for (const d of docs) kinds[d.kind] = (kinds[d.kind] ?? 0) + 1;
  log(`overlay ${overlay}: rendered ${docs.length} objects: ${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ')}`);
}

// 2. The dev overlay's Deployments, made runnable by podman kube play 4.3.
const dev = rendered.dev;
const secrets = Object.fromEntries(dev.filter((d) => d.kind === 'Secret').map((s) => [s.metadata.name, { ...Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])), ...(s.stringData ?? {}) }]));
const configMaps = Object.fromEntries(dev.filter((d) => d.kind === 'ConfigMap').map((c) => [c.metadata.name, c.data ?? {}]));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-kube-smoke-'));
const files = [];

function cleanup() {
  for (const f of files.reverse()) podman(['kube', 'down', f], { allowFail: true });
  podman(['network', 'rm', '-f', NET], { allowFail: true });
}
cleanup();
podman(['network', 'create', NET]);

let failed = false;
try {
  const natsFile = path.join(work, 'nats.yaml');
  fs.writeFileSync(natsFile, YAML.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nats' }, spec: { containers: [{ name: 'nats', image: 'docker.io/library/nats:2.10-alpine', args: ['-js', '-sd', '/tmp/js', '-m', '8222'] }] } }));
  podman(['kube', 'play', '--network', NET, natsFile]);
  files.push(natsFile);
  const natsIp = podman(['inspect', '--format', `{{(index .NetworkSettings.Networks "${NET}").IPAddress}}`, 'nats-nats']).stdout.trim();
  log(`NATS pod up at ${natsIp} (podman ignores Services: NATS_URL gets its IP)`);

  const deployments = dev.filter((d) => d.kind === 'Deployment');
  for (const d of deployments) {
    const spec = d.spec.template.spec;
    for (const c of spec.containers) {
      const env = [];
      for (const ref of c.envFrom ?? []) if (ref.configMapRef) for (const [name, value] of Object.entries(configMaps[ref.configMapRef.name] ?? {})) env.push({ name, value: String(value) });
      for (const e of c.env ?? []) {
        if (e.value !== undefined) env.push({ name: e.name, value: e.value });
        else if (e.valueFrom?.secretKeyRef) {
          const { name, key } = e.valueFrom.secretKeyRef;
          const value = secrets[name]?.[key];
          if (value !== undefined) env.push({ name: e.name, value: e.name === 'NATS_URL' ? `nats://${natsIp}:4222` : value });
        } else if (e.valueFrom?.fieldRef) env.push({ name: e.name, value: `${d.metadata.name}-kube` });
      }
      c.env = env;
      delete c.envFrom;
      c.image = `localhost/${c.image}`;
      // podman 4.3 publishes every containerPort on the host (two replicas would collide,
      // and tests on this machine use the same ports); readiness is read from inside.
      delete c.ports;
      // podman 4.3 turns an httpGet probe into a healthcheck `curl -f … || kill 1`: the images
      // have no curl, so any healthcheck run (podman-env.sh's loop) would stop the service.
      delete c.livenessProbe;
      delete c.readinessProbe;
      delete c.startupProbe;
    }
    delete spec.automountServiceAccountToken;
    if (d.metadata.name === 'detector') d.spec.replicas = 2;
    d.metadata.namespace = undefined;
    const file = path.join(work, `${d.metadata.name}.yaml`);
    fs.writeFileSync(file, YAML.stringify(d));
    const r = podman(['kube', 'play', '--network', NET, file], { allowFail: true });
    if (r.status !== 0) throw new Error(`podman kube play ${d.metadata.name}: ${r.stderr}`);
    files.push(file);
    log(`podman kube play: Deployment ${d.metadata.name} (${d.spec.replicas ?? 1} replica(s), ${spec.containers[0].image})`);
  }

  // 3. Every pod's service ready (its /readyz from inside the container).
  const containers = podman(['ps', '--format', '{{.Names}}']).stdout.split('\n').filter((n) => /^(detector|reid|gateway)-pod-\d+-/.test(n));
  log(`containers: ${containers.join(', ')}`);
  const deadline = Date.now() + 180_000;
  const pending = new Set(containers);
  while (pending.size > 0 && Date.now() < deadline) {
    for (const c of [...pending]) {
      const r = podman(['exec', c, 'node', '/usr/local/lib/lookout/healthcheck.mjs'], { allowFail: true });
      if (r.status === 0) {
        pending.delete(c);
        log(`${c}: /readyz 200`);
      }
    }
    if (pending.size) await new Promise((r) => setTimeout(r, 3000));
  }
  if (pending.size || containers.length !== 4) {
    failed = true;
    for (const c of pending) log(`${c} NOT ready; last log lines:\n${podman(['logs', '--tail', '20', c], { allowFail: true }).stderr}`);
  } else log('every Deployment of the dev overlay ran as pods under podman and got ready against NATS');
} catch (err) {
  failed = true;
  log(String(err instanceof Error ? err.message : err));
} finally {
  if (process.env.LOOKOUT_KUBE_KEEP !== '1') cleanup();
  fs.rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
