// `docker compose up` for real (issue 19): the four images built from deploy/docker/Dockerfile
// as it is, compose.yaml run by docker-compose 1.29 against a root podman (no Docker engine,
// no registry: scripts/deploy/podman-env.sh makes the base images locally), then what a user
// does: the dashboard, enrolling a person through the REST API, a room, the fixture video
// ingested into it, analysis on the WebSocket — every service in a container, the SFU's UDP
// range published, two detector replicas sharing the frames. `docker-compose down` leaves
// none of the project's containers behind.
//
// Minutes (a cold image build), so not part of `npm test`: `npm run test:compose` runs it
// (LOOKOUT_COMPOSE_TEST=1), and .ci/run runs that after the suite.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ServerMessage } from '@lookout/contracts';
import {
  ComposeProject,
  FIXTURES,
  ROOT,
  TEST_ADMIN_KEY,
  TEST_TOKEN_SECRET,
  TestWsClient,
  apiCall,
  buildServiceImages,
  counterSum,
  freePorts,
  isAnalysis,
  natsComposeConfFor29,
  podmanDown,
  podmanUp,
  roomToken,
  type BuiltImage,
} from '@lookout/testkit';

type Analysis = Extract<ServerMessage, { type: 'analysis' }>;

const enabled = process.env.LOOKOUT_COMPOSE_TEST === '1';
const describeCompose = enabled ? describe : describe.skip;
const PROJECT = 'lookoutcompose';
const RTC_MIN_PORT = 40000;
const RTC_MAX_PORT = 40019;
const ROOM = 'compose-hall';
const photo = (person: string, file: string) => fs.readFileSync(path.join(FIXTURES, 'faces/identities', person, file));
const log = (msg: string) => process.stdout.write(`[compose] ${msg}\n`);

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describeCompose('docker compose up: compose.yaml on podman, images from deploy/docker/Dockerfile', () => {
  let compose: ComposeProject;
  let base: string;
  let images: BuiltImage[] = [];
  let viewer: TestWsClient | undefined;

  beforeAll(async () => {
    const t0 = Date.now();
    const env = podmanUp();
    log(`podman ready (${Math.round((Date.now() - t0) / 1000)} s): DOCKER_HOST=${env.DOCKER_HOST}`);
    // LOOKOUT_COMPOSE_BUILD=0: use the images already built (reruns by hand); CI always builds.
    if (process.env.LOOKOUT_COMPOSE_BUILD === '0') images = ['sfu', 'detector', 'reid', 'gateway'].map((service) => ({ service, seconds: 0, sizeMb: 0 }));
    else images = await buildServiceImages(env, (l) => log(`built ${l}`));
    const [httpPort] = await freePorts(1);
    Object.assign(env, {
      API_KEYS: `admin:${TEST_ADMIN_KEY}`,
      TOKEN_SECRET: TEST_TOKEN_SECRET,
      LOOKOUT_HTTP_PORT: String(httpPort),
      RTC_MIN_PORT: String(RTC_MIN_PORT),
      RTC_MAX_PORT: String(RTC_MAX_PORT),
      MEDIASOUP_WORKERS: '1',
      LOOKOUT_TEST_NATS_COMPOSE_CONF: natsComposeConfFor29(),
    });
    compose = new ComposeProject(PROJECT, env);
    compose.down(); // a run that died before its own down
    compose.seedNatsSecrets();
    const up = Date.now();
    compose.compose(['up', '-d', '--scale', 'detector=2'], { timeoutMs: 300_000 });
    log(`docker-compose up -d --scale detector=2: ${Date.now() - up} ms`);
    base = `http://127.0.0.1:${httpPort}`;
  }, 3_000_000);

  afterAll(async () => {
    viewer?.ws.close();
    if (compose) {
      if (process.env.LOOKOUT_COMPOSE_KEEP !== '1') {
        compose.down();
        // Whatever down left (the last test fails if anything was): removed, so the next run starts clean.
        for (const c of compose.containers()) compose.podman(['rm', '-f', c.name], { allowFail: true });
      }
    }
    podmanDown();
  }, 240_000);

  it('builds the four images from the unmodified Dockerfile', () => {
    for (const i of images) log(`image lookout/${i.service}:local ${i.sizeMb} MB, build step ${i.seconds} s`);
    expect(images.map((i) => i.service).sort()).toEqual(['detector', 'gateway', 'reid', 'sfu']);
  });

  it('starts every service healthy: NATS first, then sfu, 2 detectors, reid and gateway', async () => {
    const ready = await until('the gateway /readyz', 240_000, async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined));
    expect(ready).toBe(true);
    const healthy = await until('every service healthy', 240_000, () => {
      const cs = compose.containers().filter((c) => c.service !== 'nats-secrets');
      return cs.length === 6 && cs.every((c) => c.state === 'running' && c.health === 'healthy') ? cs : undefined;
    }, 2000);
    for (const c of compose.containers()) log(`container ${c.name}: ${c.state} ${c.health}`);
    expect(healthy.filter((c) => c.service === 'detector')).toHaveLength(2);
    const secrets = compose.containers().find((c) => c.service === 'nats-secrets');
    expect(secrets?.state).toBe('exited');
  }, 600_000);

  it('publishes the SFU\'s WebRTC range (UDP and TCP) on the host', () => {
    const sfu = compose.containers().find((c) => c.service === 'sfu')!;
    const ports = compose.podman(['port', sfu.name]).stdout;
    for (let p = RTC_MIN_PORT; p <= RTC_MAX_PORT; p++) {
      expect(ports).toContain(`${p}/udp -> 0.0.0.0:${p}`);
      expect(ports).toContain(`${p}/tcp -> 0.0.0.0:${p}`);
    }
  });

  it('serves the dashboard (the web app) at /', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toMatch(/<script[^>]+src=/);
    const script = /<script[^>]+src="([^"]+)"/.exec(html)![1]!;
    expect((await fetch(new URL(script, `${base}/`))).status).toBe(200);
  });

  it('enrolls a person, ingests the fixture video into a room, and the analysis arrives on the WebSocket from the containers', async () => {
    const form = new FormData();
    form.append('name', 'Barack Obama');
    form.append('subjectId', 'obama');
    for (const f of ['fr_obama.jpg', 'fr_obama2.jpg']) form.append('images', new Blob([new Uint8Array(photo('barack_obama', f))], { type: 'image/jpeg' }), f);
    const enrolled = await apiCall<{ subject: { subjectId: string; embeddings: number } }>(base, 'POST', '/gallery/subjects', { body: form });
    log(`enrolled: HTTP ${enrolled.status} ${enrolled.text.slice(0, 200)}`);
    expect(enrolled.status).toBe(201);
    expect(enrolled.body.subject).toMatchObject({ subjectId: 'obama', embeddings: 2 });

    const created = await apiCall(base, 'POST', '/rooms', { json: { room: ROOM, sampleFps: 5 } });
    expect(created.status).toBe(201);
    viewer = await TestWsClient.connect(`${base.replace('http', 'ws')}/ws`);
    await viewer.join(ROOM, roomToken(ROOM, 'viewer'));
    await viewer.subscribe(ROOM, ['analysis']);

    const ingest = await apiCall(base, 'POST', `/rooms/${ROOM}/ingest`, { json: { stream: 'door', url: 'video/two-people-sequential-640x480-15fps.webm', loop: true } });
    log(`ingest: HTTP ${ingest.status} ${ingest.text.slice(0, 200)}`);
    expect(ingest.status).toBe(201);

    const seen: Analysis[] = [];
    const t0 = Date.now();
    while (seen.length < 40 && Date.now() - t0 < 90_000) {
      const m = await viewer.next((x): x is Analysis => isAnalysis(x) && x.data.stream === 'door', 60_000);
      seen.push(m);
      const faces = m.data.faces.map((f) => `${f.identity ? `${f.identity.subjectId} (${f.identity.similarity.toFixed(2)})` : 'unknown'}`).join(', ');
      log(`analysed frame seq ${m.data.seq} of ${m.data.room}/${m.data.stream}: ${m.data.faces.length} face(s) [${faces}]`);
    }
    expect(seen.length).toBeGreaterThanOrEqual(20);
    expect(seen.some((m) => m.data.faces.some((f) => f.identity?.subjectId === 'obama'))).toBe(true);
    expect(viewer.protocolErrors).toEqual([]);
  }, 240_000);

  it('shares the frames between the two detector replicas (each one\'s /metrics counts frames)', () => {
    const detectors = compose.containers().filter((c) => c.service === 'detector');
    expect(detectors).toHaveLength(2);
    const counts = detectors.map((d) => {
      const n = counterSum(compose.httpInside(d.name, 9102, '/metrics'), 'lookout_detector_frames_processed_total');
      log(`${d.name}: lookout_detector_frames_processed_total ${n}`);
      return n;
    });
    for (const n of counts) expect(n).toBeGreaterThan(0);
  });

  it('docker-compose down leaves none of the project\'s containers', () => {
    const t0 = Date.now();
    compose.down();
    log(`docker-compose down: ${Date.now() - t0} ms`);
    expect(compose.containers()).toEqual([]);
    expect(compose.podman(['ps', '-a', '--format', '{{.Names}}']).stdout.split('\n').filter((n) => n.startsWith(`${PROJECT}_`))).toEqual([]);
  }, 240_000);

  it('Kubernetes smoke: both overlays render; the dev overlay\'s Deployments run as pods (podman kube play) and get ready against a NATS pod', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/deploy/kube-smoke.mjs')], { cwd: ROOT, env: compose.env, encoding: 'utf8', timeout: 300_000 });
    for (const line of `${r.stdout}`.split('\n').filter(Boolean)) log(line);
    if (r.status !== 0) log(r.stderr.slice(-3000));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/detector-pod-1-detector: \/readyz 200/);
  }, 330_000);
});
