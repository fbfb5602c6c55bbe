import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from './ports.js';
import { spawnProcess, type Spawned } from './processes.js';
import { ROOT } from './services.js';

/** One server of a test cluster; `kill` and `start` simulate a node lost and brought back. */
export interface NatsClusterNode {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly storeDir: string;
  /** True while its process runs. */
  running(): boolean;
  /** SIGKILL: no flush, no goodbye to the routes (a node whose machine died). */
  kill(): Promise<void>;
  /** Starts it again on the same ports and store; resolves once it is ready. */
  start(): Promise<void>;
}

export interface NatsCluster {
  readonly nodes: readonly NatsClusterNode[];
  /** Every node's client URL, comma-separated (what NATS_URL accepts). */
  readonly urls: string;
  /** Resolves once JetStream has a meta leader seen by every running node (polls /jsz). */
  waitForMetaLeader(timeoutMs?: number): Promise<string>;
  /** Stops every node and removes the store dirs. */
  stop(): Promise<void>;
}

/**
 * A nats-server that can be SIGKILLed and started again on the same ports and store: one
 * process at a time, `args` reused for every start. `stop` ends the current one gently.
 */
function restartableNats(d: { name: string; label: string; port: number; monitorPort: number; storeDir: string; args: string[] }): NatsClusterNode & { stop(): Promise<void> } {
  let proc: Spawned | undefined;
  const node = {
    name: d.name,
    url: `nats://127.0.0.1:${d.port}`,
    port: d.port,
    monitorPort: d.monitorPort,
    storeDir: d.storeDir,
    running: () => proc !== undefined && proc.child.exitCode === null && proc.child.signalCode === null,
    async kill() {
      if (!proc || !node.running()) return;
      proc.child.kill('SIGKILL');
      await proc.exited;
    },
    async start() {
      if (node.running()) return;
      proc = spawnProcess(d.label, 'nats-server', d.args);
      await proc.waitForLine((l) => l.includes('Server is ready'), 60_000);
    },
    async stop() {
      await proc?.stop();
    },
  };
  return node;
}

/**
 * A real JetStream cluster of `size` nats-server processes on loopback, each with its own
 * store dir. Ports are picked up front (a restarted node must come back on its own client
 * and route ports, and routes are configured by port), so a port could in principle be
 * taken between the pick and the start; the start fails loudly then.
 */
export async function startNatsCluster(size = 3, opts: { name?: string } = {}): Promise<NatsCluster> {
  const clusterName = opts.name ?? 'lookout-test';
  const ports = await freePorts(size * 3);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-nats-cluster-'));
  const routePorts = ports.slice(size, size * 2);
  const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`);
  const nodes = Array.from({ length: size }, (_, i) => {
    const name = `n${i + 1}`;
    const port = ports[i]!;
    const monitorPort = ports[size * 2 + i]!;
    const storeDir = path.join(root, name);
    fs.mkdirSync(storeDir);
    const conf = path.join(root, `${name}.conf`);
    fs.writeFileSync(
      conf,
      [
        // deploy/nats.conf's settings, restated: it also names fixed ports, which a cluster on one machine cannot share.
        'max_payload: 4MB',
        `server_name: ${name}`,
        `listen: "127.0.0.1:${port}"`,
        `http: "127.0.0.1:${monitorPort}"`,
        `jetstream { store_dir: "${storeDir}", max_memory_store: 256MB, max_file_store: 10GB }`,
        `cluster { name: ${clusterName}, listen: "127.0.0.1:${routePorts[i]}", routes: [${routes.join(', ')}] }`,
        '',
      ].join('\n'),
    );
    const node = restartableNats({ name, label: `nats-${name}`, port, monitorPort, storeDir, args: ['-c', conf] });
    return { node, stop: () => node.stop() };
  });
  await Promise.all(nodes.map((n) => n.node.start()));
  const cluster: NatsCluster = {
    nodes: nodes.map((n) => n.node),
    urls: nodes.map((n) => n.node.url).join(','),
    async waitForMetaLeader(timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const leaders = await Promise.all(
          cluster.nodes.filter((n) => n.running()).map(async (n) => {
            try {
              const res = await fetch(`http://127.0.0.1:${n.monitorPort}/jsz`);
              const jsz = (await res.json()) as { meta_cluster?: { leader?: string } };
              return jsz.meta_cluster?.leader ?? '';
            } catch {
              return '';
            }
          }),
        );
        if (leaders.length && leaders.every((l) => l && l === leaders[0])) return leaders[0]!;
        if (Date.now() > end) throw new Error(`no JetStream meta leader agreed on after ${timeoutMs} ms: ${JSON.stringify(leaders)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  await cluster.waitForMetaLeader();
  return cluster;
}

/**
 * One standalone nats-server (deploy/nats.conf, JetStream, like startNatsServer) on fixed
 * loopback ports picked here, so that it can be SIGKILLed and started again on the same
 * port and store (a NATS outage the clients must ride out). The store dir is removed by
 * `remove()`, not by `kill()`.
 */
export async function startNatsNode(opts: { storeDir?: string } = {}): Promise<NatsClusterNode & { remove(): Promise<void> }> {
  const [port, monitorPort] = (await freePorts(2)) as [number, number];
  const storeDir = opts.storeDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-nats-node-'));
  const args = ['-c', path.join(ROOT, 'deploy/nats.conf'), '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-js', '-sd', storeDir];
  const base = restartableNats({ name: 'nats', label: 'nats-server', port, monitorPort, storeDir, args });
  const node = Object.assign(base, {
    async remove() {
      await base.stop();
      if (!opts.storeDir) fs.rmSync(storeDir, { recursive: true, force: true });
    },
  });
  await node.start();
  return node;
}
