#!/usr/bin/env node
// Validates the deployment files offline, without a Docker engine or a cluster:
//   - deploy/docker/Dockerfile: syntax (dockerfile-utils), and per target: non-root USER,
//     HEALTHCHECK, exec-form CMD, stages that exist
//   - compose.yaml: `docker-compose config` (Debian's docker-compose 1.29) with every profile;
//     every long-running service restarts (unless-stopped, always, on-failure), one-shot
//     jobs (others wait for them to complete) have restart "no"
//   - deploy/k8s: each overlay rendered by real kustomize (`kubectl kustomize`, kubectl
//     pinned below), every object checked against the Kubernetes 1.30 schemas
//     (kubernetes-models) and, for unknown or misspelt fields, against their TypeScript
//     types; then Lookout's rules (probes, resources, non-root, references resolve). Probes:
//     every Deployment/DaemonSet/StatefulSet container has startup and liveness probes on
//     /healthz and readiness on /readyz, liveness tolerating ≥ 20 s of failures
//   - monitoring files: every lookout_* metric they use exists in the services' code, and
//     the HPA's custom metric is one the Prometheus adapter rules serve
//
//   node scripts/validate-deploy.mjs           summary; exit 1 if anything is wrong
//   node scripts/validate-deploy.mjs --json    the full report (rendered objects included)
//   node scripts/validate-deploy.mjs --root <dir>   check a copy of the tree (the tests
//                                                   use it to prove failures are caught)
// Environment: KUBECTL=<path> uses that kubectl (>= 1.27) instead of the pinned one;
// DOCKER_COMPOSE=<path> another docker-compose.
import path from 'node:path';
import { repo, SERVICES, problems } from './deploy/common.mjs';
import { KUBECTL, pinnedKubectl } from './deploy/kubectl.mjs';
import { validateDockerfile } from './deploy/dockerfile.mjs';
import { validateCompose } from './deploy/compose.mjs';
import { validateKubernetes } from './deploy/kubernetes.mjs';
import { validateMonitoring } from './deploy/monitoring.mjs';

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
