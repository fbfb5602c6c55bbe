// Metrics used by dashboards, alerts and the Prometheus adapter must exist in the services.
import path from 'node:path';
import YAML from 'yaml';
import { readFileSync, readdirSync } from 'node:fs';
import { root, problem, read } from './common.mjs';

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

export function validateMonitoring(k8s) {
  const defined = new Set();
  for (const dir of ['services', 'packages']) {
    for (const f of walk(path.join(root, dir), (p) => p.endsWith('.ts'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/['"](lookout_[a-z0-9_]+)['"]/g)) defined.add(m[1]);
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
