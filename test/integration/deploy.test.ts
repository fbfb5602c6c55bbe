// Deployment files, checked offline: scripts/validate-deploy.mjs renders compose.yaml
// (docker-compose config) and the kustomize overlays (real kubectl kustomize), validates
// them against the Kubernetes schemas and Lookout's rules. This test asserts it passes,
// asserts the properties the deployment depends on directly from what it rendered, and
// proves the validator fails on broken copies of the files. The one program the
// deployment ships (the JetStream R3 job) runs against a real 3-node NATS cluster.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { freePorts } from '@lookout/testkit';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = path.join(ROOT, 'scripts', 'validate-deploy.mjs');
const SERVICES = ['sfu', 'detector', 'reid', 'gateway'] as const;

interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: EnvVar[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
}
interface PodSpec {
  containers: Container[];
  securityContext?: SecurityContext;
  hostNetwork?: boolean;
  dnsPolicy?: string;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    podSelector?: Record<string, unknown>;
    policyTypes?: string[];
    template?: { spec: PodSpec };
    jobTemplate?: { spec: { template: { spec: PodSpec } } };
    scaleTargetRef?: { apiVersion: string; kind: string; name: string };
    minReplicas?: number;
    metrics?: { type: string; resource?: { name: string }; pods?: { metric: { name: string } } }[];
    selector?: { matchLabels?: Record<string, string> };
  };
}
interface ComposePort {
  published: number | string;
  target: number;
  protocol?: string;
}
interface ComposeService {
  image?: string;
  command?: string[];
  build?: { target?: string };
  deploy?: { replicas?: number };
  environment?: Record<string, string | number>;
  ports?: (ComposePort | string)[];
  healthcheck?: { test: string[] };
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
  volumes?: string[];
}
interface Stage {
  name: string;
  baseImage: string;
  user?: string;
  healthcheck?: string;
  cmd?: string;
  entrypoint?: string;
}
interface Report {
  ok: boolean;
  problems: { area: string; message: string }[];
  dockerfile: { stages: Stage[] };
  compose: { tool: string | null; config?: { services: Record<string, ComposeService> } };
  k8s: { tool: string | null; schemas?: string; overlays: Record<string, K8sObject[]> };
  monitoring: { adapterServes: string[] };
}

function validate(...args: string[]): { status: number | null; report: Report; stderr: string } {
  const r = spawnSync(process.execPath, [SCRIPT, '--json', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`validate-deploy printed no report (status ${r.status}): ${r.stderr}`);
  }
  return { status: r.status, report, stderr: r.stderr };
}

const podSpec = (o: K8sObject): PodSpec | undefined => o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec.template.spec;
const env = (c: Container, name: string): EnvVar | undefined => c.env?.find((e) => e.name === name);

let result: ReturnType<typeof validate>;

beforeAll(() => {
  // The first run on a machine fetches kubectl (a 36 MB npm tarball).
  result = validate();
}, 300_000);

describe('deploy validation', () => {
  it('passes every check, with the tools it names', () => {
    expect(result.report.problems).toEqual([]);
    expect(result.status).toBe(0);
    expect(result.report.compose.tool).toMatch(/^docker-compose 1\.29\./);
    expect(result.report.k8s.tool).toMatch(/kubectl v1\.\d+\.\d+, kustomize v5\./);
    expect(result.report.k8s.schemas).toMatch(/^kubernetes-models 4\./);
    expect(Object.keys(result.report.k8s.overlays).sort()).toEqual(['dev', 'prod']);
  });
});

describe('images (deploy/docker/Dockerfile)', () => {
  const stages = () => result.report.dockerfile.stages;
  const stageText = (name: string): string => {
    const text = readFileSync(path.join(ROOT, 'deploy/docker/Dockerfile'), 'utf8');
    const start = text.search(new RegExp(`^FROM \\S+ AS ${name}$`, 'm'));
    const rest = text.slice(start + 1);
    const end = rest.search(/^FROM /m);
    return end < 0 ? rest : rest.slice(0, end);
  };

  it.each(SERVICES)('%s: node:20-bookworm-slim, non-root, healthcheck, node as the command in exec form', (svc) => {
    const s = stages().find((st) => st.name === svc);
    expect(s).toBeDefined();
    expect(s!.baseImage).toBe('node:20-bookworm-slim');
    expect(s!.user).toBe('10001:10001');
    expect(s!.healthcheck).toMatch(/CMD \["node", "\/usr\/local\/lib\/lookout\/healthcheck\.mjs"\]/);
    const cmd = JSON.parse(s!.cmd!) as string[];
    expect(cmd[0]).toBe('node');
    expect(cmd.at(-1)).toBe(`services/${svc}/dist/main.js`);
  });

  it('sfu carries mediasoup-worker 3.8.4 from pinned experimental, ffmpeg, and tini as PID 1', () => {
    const sfu = stageText('sfu');
    expect(sfu).toMatch(/Pin: release a=experimental\\nPin-Priority: 1/);
    expect(sfu).toMatch(/mediasoup-worker=\$\{MEDIASOUP_WORKER_DEB_VERSION\}/);
    expect(sfu).toMatch(/ARG MEDIASOUP_WORKER_DEB_VERSION=3\.8\.4~/);
    expect(sfu).toMatch(/\bffmpeg\b/);
    expect(JSON.parse(stages().find((s) => s.name === 'sfu')!.entrypoint!)).toEqual(['/usr/bin/tini', '--']);
  });

  it('models are fetched and verified in the build stage and shipped in the detector and reid images only', () => {
    expect(stageText('build')).toMatch(/npm run models/);
    for (const svc of ['detector', 'reid']) expect(stageText(svc)).toMatch(/COPY --from=build \/out\/models\/ \.\/models\//);
    for (const svc of ['sfu', 'gateway']) expect(stageText(svc)).not.toMatch(/models/);
    for (const svc of SERVICES) expect(stageText(`deps-${svc}`)).toMatch(new RegExp(`npm ci --omit=dev --workspace services/${svc}`));
  });

  it('every image carries the healthcheck and the JetStream tool', () => {
    const runtime = stageText('runtime');
    expect(runtime).toMatch(/^COPY deploy\/docker\/healthcheck\.mjs \/usr\/local\/lib\/lookout\/healthcheck\.mjs$/m);
    expect(runtime).toMatch(/^COPY deploy\/docker\/jetstream-replicas\.mjs \/app\/tools\/jetstream-replicas\.mjs$/m);
  });
});

describe('compose.yaml', () => {
  const services = () => result.report.compose.config!.services;
  const ports = (s: ComposeService): ComposePort[] => (s.ports ?? []).filter((p): p is ComposePort => typeof p === 'object');

  it('has NATS with JetStream on a volume and the four services; TURN and monitoring only in profiles', () => {
    const s = services();
    expect(Object.keys(s).sort()).toEqual(['coturn', 'detector', 'gateway', 'grafana', 'nats', 'nats-secrets', 'prometheus', 'reid', 'sfu']);
    expect(s.nats!.volumes!.some((v) => /^nats-data:\/data/.test(v))).toBe(true);
    expect(s.nats!.volumes!.some((v) => v.endsWith('/deploy/nats.conf:/etc/nats/nats.conf:ro'))).toBe(true);
    expect(s.coturn!.profiles).toEqual(['turn']);
    expect(s.prometheus!.profiles).toEqual(['monitoring']);
    expect(s.grafana!.profiles).toEqual(['monitoring']);
    for (const name of ['nats', 'nats-secrets', ...SERVICES]) expect(s[name]!.profiles).toBeUndefined();
  });

  it('restarts every long-running service unless stopped, and never the one-shot secrets job', () => {
    const restart = Object.fromEntries(Object.entries(services()).map(([name, s]) => [name, s.restart]));
    expect(restart).toEqual({ ...Object.fromEntries(Object.keys(restart).map((n) => [n, 'unless-stopped'])), 'nats-secrets': 'no' });
  });

  it('NATS requires a user per service: passwords generated once into a volume, each service reads its own file', () => {
    const s = services();
    expect(s['nats-secrets']!.volumes).toContain('nats-secrets:/secrets:rw');
    expect(s['nats-secrets']!.command!.join(' ')).toMatch(/for u in detector reid sfu gateway cli/);
    expect(s.nats!.depends_on?.['nats-secrets']?.condition).toBe('service_completed_successfully');
    expect(s.nats!.volumes!.some((v) => v.endsWith('/deploy/nats-compose.conf:/etc/nats/nats-compose.conf:ro'))).toBe(true);
    expect(s.nats!.command!.join(' ')).toMatch(/exec nats-server -c \/etc\/nats\/nats-compose\.conf/);
    for (const svc of SERVICES) {
      expect(s[svc]!.environment).toMatchObject({ NATS_USER: svc, NATS_PASSWORD_FILE: `/run/lookout-nats/${svc}` });
      expect(s[svc]!.environment!.NATS_PASSWORD).toBeUndefined();
      expect(s[svc]!.volumes).toContain('nats-secrets:/run/lookout-nats:ro');
    }
  });

  it('runs 2 detector replicas', () => {
    expect(services().detector!.deploy?.replicas).toBe(2);
  });

  it.each(SERVICES)('%s: built from its target, listens on 0.0.0.0, healthchecked, starts after NATS is healthy', (svc) => {
    const s = services()[svc]!;
    expect(s.build?.target).toBe(svc);
    expect(s.environment?.HTTP_HOST).toBe('0.0.0.0');
    expect(s.environment?.NATS_URL).toBe('nats://nats:4222');
    expect(s.healthcheck?.test).toEqual(['CMD', 'node', '/usr/local/lib/lookout/healthcheck.mjs']);
    expect(s.depends_on?.nats?.condition).toBe('service_healthy');
  });

  it('sfu publishes exactly its RTC port range on UDP and TCP and announces 127.0.0.1 by default', () => {
    const sfu = services().sfu!;
    const min = Number(sfu.environment!.RTC_MIN_PORT);
    const max = Number(sfu.environment!.RTC_MAX_PORT);
    expect([min, max]).toEqual([40000, 40099]);
    expect(sfu.environment!.RTC_ANNOUNCED_IP).toBe('127.0.0.1');
    expect(sfu.environment!.RTC_LISTEN_IP).toBe('0.0.0.0');
    const range = Array.from({ length: max - min + 1 }, (_, i) => min + i);
    for (const protocol of ['udp', 'tcp']) {
      const published = ports(sfu)
        .filter((p) => (p.protocol ?? 'tcp') === protocol)
        .map((p) => {
          expect(Number(p.published)).toBe(p.target);
          return p.target;
        })
        .sort((a, b) => a - b);
      expect(published).toEqual(range);
    }
  });

  it('gateway serves on 8080; nothing else of Lookout is published', () => {
    expect(ports(services().gateway!).map((p) => [Number(p.published), p.target])).toEqual([[8080, 8080]]);
    for (const svc of ['detector', 'reid']) expect(services()[svc]!.ports).toBeUndefined();
  });
});

describe.each(['dev', 'prod'])('kubernetes overlay %s', (overlay) => {
  const objects = () => result.report.k8s.overlays[overlay]!;
  const find = (kind: string, name: string) => objects().find((o) => o.kind === kind && o.metadata.name === name);
  const workloads = () => objects().filter((o) => podSpec(o));

  it('every Deployment and DaemonSet has startup, readiness and liveness probes and resource requests', () => {
    const long = objects().filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');
    expect(long.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['DaemonSet/sfu', 'Deployment/detector', 'Deployment/gateway', 'Deployment/reid']);
    for (const w of long) {
      for (const c of podSpec(w)!.containers) {
        expect(c.startupProbe?.httpGet?.path).toBe('/healthz');
        expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
        expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
        expect(c.resources?.requests?.cpu).toBeTruthy();
        expect(c.resources?.requests?.memory).toBeTruthy();
      }
    }
  });

  it('no container runs as root', () => {
    expect(workloads().length).toBeGreaterThanOrEqual(4);
    for (const w of workloads()) {
      const pod = podSpec(w)!;
      for (const c of pod.containers) {
        const sc = { ...pod.securityContext, ...c.securityContext };
        expect({ workload: w.metadata.name, runAsNonRoot: sc.runAsNonRoot }).toEqual({ workload: w.metadata.name, runAsNonRoot: true });
        expect(sc.runAsUser).toBe(10001);
        expect(sc.readOnlyRootFilesystem).toBe(true);
      }
    }
  });

  it('the HPA scales the detector Deployment, which leaves replicas to it', () => {
    const hpas = objects().filter((o) => o.kind === 'HorizontalPodAutoscaler');
    expect(hpas).toHaveLength(1);
    const hpa = hpas[0]!;
    expect(hpa.spec!.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'detector' });
    expect(find('Deployment', 'detector')).toBeDefined();
    expect(find('Deployment', 'detector')!.spec!.replicas).toBeUndefined();
    expect(hpa.spec!.metrics!.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu')).toBe(true);
    const custom = hpa.spec!.metrics!.filter((m) => m.type === 'Pods').map((m) => m.pods!.metric.name);
    // The custom metric needs the Prometheus adapter: prod only.
    expect(custom).toEqual(overlay === 'prod' ? ['lookout_detector_frames_shed_per_second'] : []);
    for (const name of custom) expect(result.report.monitoring.adapterServes).toContain(name);
  });

  it('has a PodDisruptionBudget for each Deployment and a default-deny NetworkPolicy', () => {
    for (const name of ['detector', 'reid', 'gateway']) expect(find('PodDisruptionBudget', name)?.spec?.selector?.matchLabels?.['app.kubernetes.io/name']).toBe(name);
    const deny = find('NetworkPolicy', 'default-deny-ingress');
    expect(deny?.spec?.podSelector).toEqual({});
    expect(deny?.spec?.policyTypes).toEqual(['Ingress']);
  });

  it('keeps JetStream at 3 replicas in prod with the tool from the gateway image', () => {
    const job = find('CronJob', 'jetstream-replicas');
    if (overlay === 'dev') {
      expect(job).toBeUndefined();
      return;
    }
    const c = podSpec(job!)!.containers[0]!;
    expect(c.command).toEqual(['node', 'tools/jetstream-replicas.mjs']);
    expect(c.image).toBe(podSpec(find('Deployment', 'gateway')!)!.containers[0]!.image);
    expect(env(c, 'REPLICAS')?.value).toBe('3');
  });

  it('runs the SFU on the host network with the node address announced', () => {
    const sfu = find('DaemonSet', 'sfu')!;
    const pod = podSpec(sfu)!;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe('ClusterFirstWithHostNet');
    const c = pod.containers[0]!;
    expect(env(c, 'RTC_ANNOUNCED_IP')?.valueFrom?.fieldRef?.fieldPath).toBe('status.hostIP');
    expect(env(c, 'RTC_LISTEN_IP')?.value).toBe('0.0.0.0');
  });

  it('takes NATS credentials and API keys from Secrets, never from literals', () => {
    for (const w of workloads()) {
      for (const c of podSpec(w)!.containers) {
        for (const name of ['NATS_URL', 'NATS_USER', 'NATS_PASSWORD']) {
          expect(env(c, name)?.valueFrom?.secretKeyRef).toMatchObject({ name: expect.stringMatching(/^lookout-nats/), key: name });
        }
      }
    }
    const gateway = podSpec(find('Deployment', 'gateway')!)!.containers[0]!;
    expect(env(gateway, 'API_KEYS')?.valueFrom?.secretKeyRef?.key).toBe('API_KEYS');
    const secrets = objects().filter((o) => o.kind === 'Secret');
    // Dev generates throwaway secrets; prod expects them created out of band.
    expect(secrets.length).toBe(overlay === 'dev' ? 2 : 0);
    const config = find('ConfigMap', 'lookout-config')!;
    expect(config.data?.HTTP_HOST).toBe('0.0.0.0');
  });
});

describe('the validator catches broken files', () => {
  let dir: string | undefined;

  /** A fresh copy of the files the validator reads, and a way to break one of them. */
  function copyOfTree() {
    if (dir) rmSync(dir, { recursive: true, force: true });
    const copy = mkdtempSync(path.join(os.tmpdir(), 'lookout-deploy-'));
    dir = copy;
    const skip = (src: string) => !/[/\\](node_modules|dist)([/\\]|$)/.test(src);
    for (const p of ['compose.yaml', 'deploy', 'docs', 'services', 'packages']) cpSync(path.join(ROOT, p), path.join(copy, p), { recursive: true, filter: skip });
    const edit = (rel: string, from: string | RegExp, to: string) => {
      const file = path.join(copy, rel);
      const before = readFileSync(file, 'utf8');
      const after = before.replace(from, to);
      expect(after).not.toBe(before);
      writeFileSync(file, after);
    };
    return { copy, edit };
  }

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fails on a misspelt field, a root image, an invalid compose key and an unknown metric', () => {
    const { copy, edit } = copyOfTree();
    edit('deploy/k8s/base/detector.yaml', 'readinessProbe:', 'readinesProbe:');
    edit('deploy/docker/Dockerfile', /^USER 10001:10001\n(?=# \/readyz)/m, '');
    edit('compose.yaml', 'stop_grace_period: 15s', 'stop_grace: 15s');
    edit('deploy/grafana/dashboards/lookout.json', 'lookout_detector_frames_processed_total', 'lookout_detector_frames_lost_total');

    const { status, report } = validate('--root', copy);
    expect(status).toBe(1);
    const messages = report.problems.map((p) => `${p.area}: ${p.message}`);
    const expectProblem = (re: RegExp) => expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(re)]));
    expectProblem(/^k8s: dev: Deployment\/detector: .*'"readinesProbe"' does not exist/);
    expectProblem(/^k8s: prod: Deployment\/detector: container detector: needs a readinessProbe \(on \/readyz\)/);
    expectProblem(/^dockerfile: target detector runs as root/);
    expectProblem(/^compose: docker-compose config failed: .*stop_grace/s);
    expectProblem(/^monitoring: .*lookout_detector_frames_lost_total is not defined/);
  }, 120_000);

  it('fails on a missing or wrong restart policy and on probes that would restart a healthy service', () => {
    const { copy, edit } = copyOfTree();
    edit('compose.yaml', /(exec nats-server .*\n) {4}restart: unless-stopped\n/, '$1');
    edit('compose.yaml', 'restart: "no"', 'restart: on-failure');
    edit('deploy/k8s/base/gateway.yaml', /(livenessProbe:\n\s+httpGet:\n\s+path: )\/healthz/, '$1/readyz');
    edit('deploy/k8s/base/sfu.yaml', /\n {10}startupProbe:\n( {12}.*\n)+/, '\n');
    edit('deploy/k8s/base/reid.yaml', /(livenessProbe:\n(?: {12}.*\n)*? {12}failureThreshold: )3/, '$11');

    const { status, report } = validate('--root', copy);
    expect(status).toBe(1);
    const messages = report.problems.map((p) => `${p.area}: ${p.message}`);
    const expectProblem = (re: RegExp) => expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(re)]));
    expectProblem(/^compose: nats: a long-running service needs restart: unless-stopped \(or always, on-failure\), not none$/);
    expectProblem(/^compose: nats-secrets: a one-shot job \(others wait for it to complete\) needs restart: "no", not on-failure$/);
    expectProblem(/^k8s: dev: Deployment\/gateway: container gateway: livenessProbe must GET \/healthz, not \/readyz$/);
    expectProblem(/^k8s: prod: DaemonSet\/sfu: container sfu: needs a startupProbe \(on \/healthz\)$/);
    expectProblem(/^k8s: dev: Deployment\/reid: container reid: livenessProbe restarts after 10 s of failures; allow at least 20 s$/);
    // Nothing else: each problem comes from one of the edits (the k8s ones in both overlays).
    expect(messages.filter((m) => !/^compose: nats(-secrets)?: |^k8s: (dev|prod): (Deployment\/gateway|DaemonSet\/sfu|Deployment\/reid): /.test(m))).toEqual([]);
  }, 120_000);
});

function streamConfig(nc: NatsConnection, name: string): Promise<{ num_replicas: number; max_age: number; max_msgs_per_subject: number }> {
  return nc.request(`$JS.API.STREAM.INFO.${name}`, '', { timeout: 5_000 }).then((m) => m.json<{ config: { num_replicas: number; max_age: number; max_msgs_per_subject: number } }>().config);
}

describe('jetstream-replicas (the prod JetStream R3 job)', () => {
  const servers: ChildProcess[] = [];
  let dir: string;
  let nc: NatsConnection | undefined;
  let clientPorts: number[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-jsc-'));
    const ports = await freePorts(6);
    clientPorts = ports.slice(0, 3);
    const clusterPorts = ports.slice(3);
    const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
    clientPorts.forEach((port, i) => {
      const args = ['-a', '127.0.0.1', '-p', String(port), '-n', `n${i}`, '-js', '-sd', path.join(dir, `n${i}`), '--cluster_name', 'lookout', '-cluster', `nats://127.0.0.1:${clusterPorts[i]}`, '-routes', routes];
      servers.push(spawn('nats-server', args, { stdio: 'ignore' }));
    });
    nc = await connect({ servers: `127.0.0.1:${clientPorts[0]}`, waitOnFirstConnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    // As the services do: buckets created on first use, one replica, their own settings.
    const kvm = new Kvm(nc);
    // Electing a meta leader takes seconds, more on a busy 2-core machine.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await kvm.create('lookout_room_config', { history: 3 });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err; // no JetStream meta leader elected in time
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await kvm.create('lookout_sfu_instances', { ttl: 15_000 });
    await kvm.create('not_ours', {});
  }, 90_000);

  afterAll(async () => {
    await nc?.close();
    await Promise.all(
      servers.map((p) => new Promise((resolve) => (p.exitCode !== null ? resolve(null) : (p.once('exit', resolve), p.kill('SIGTERM'))))),
    );
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('raises Lookout buckets to 3 replicas, keeps their settings, leaves others alone, and is idempotent', async () => {
    const run = () =>
      spawnSync(process.execPath, [path.join(ROOT, 'deploy/docker/jetstream-replicas.mjs')], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, NATS_URL: `nats://127.0.0.1:${clientPorts[1]}`, REPLICAS: '3' },
        timeout: 30_000,
      });
    const first = run();
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/KV_lookout_room_config: 1 → 3 replicas/);
    expect(first.stdout).toMatch(/KV_lookout_sfu_instances: 1 → 3 replicas/);

    const room = await streamConfig(nc!, 'KV_lookout_room_config');
    const sfu = await streamConfig(nc!, 'KV_lookout_sfu_instances');
    const other = await streamConfig(nc!, 'KV_not_ours');
    expect([room.num_replicas, room.max_msgs_per_subject]).toEqual([3, 3]);
    expect([sfu.num_replicas, sfu.max_age]).toEqual([3, 15_000 * 1e6]);
    expect(other.num_replicas).toBe(1);

    const second = run();
    expect(second.status).toBe(0);
    expect(second.stdout).toBe('');
  }, 60_000);
});
