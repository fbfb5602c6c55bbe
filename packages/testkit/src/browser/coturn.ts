import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { freePorts } from '../ports.js';
import { spawnProcess, type Spawned } from '../processes.js';

export interface Coturn {
  /** `turn:127.0.0.1:<port>?transport=udp` and `…tcp`: the gateway's TURN_URLS. */
  readonly urls: string[];
  readonly port: number;
  /** The relay ports coturn allocates from (inclusive). */
  readonly relayPorts: { min: number; max: number };
  /** Every log line so far (allocations: `ALLOCATE processed, success`). */
  readonly output: string[];
  readonly process: Spawned;
  /** Relay allocations that succeeded so far, from the log. */
  allocations(): number;
  stop(): Promise<void>;
}

/**
 * A real coturn (Debian's `coturn`: `turnserver`) on 127.0.0.1 for tests: the TURN REST
 * scheme with `secret` as static-auth-secret (the gateway's TURN_SECRET), plain TURN over
 * UDP and TCP on a free port, relay addresses on 127.0.0.1 from a free-looking port range,
 * loopback peers allowed (the SFU listens on 127.0.0.1), no TLS/DTLS, no CLI, verbose log on
 * stdout. The secret goes into a 0600 config file, not onto the command line.
 */
export async function startCoturn(secret: string, opts: { realm?: string } = {}): Promise<Coturn> {
  const port = (await freePorts(1))[0]!;
  // Relay ports: a range away from the ephemeral ports the OS hands out and the SFU's default 40000+.
  const min = 50_000 + 2 * Math.floor(Math.random() * 3000);
  const max = min + 99;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-coturn-'));
  const conf = path.join(dir, 'turnserver.conf');
  const lines = [
    `listening-ip=127.0.0.1`,
    `relay-ip=127.0.0.1`,
    `listening-port=${port}`,
    `min-port=${min}`,
    `max-port=${max}`,
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    `realm=${opts.realm ?? 'lookout'}`,
    'fingerprint',
    'no-tls',
    'no-dtls',
    'no-cli',
    'allow-loopback-peers',
    'no-multicast-peers',
    'no-tcp-relay',
    `userdb=${path.join(dir, 'turndb')}`,
    `pidfile=${path.join(dir, 'turnserver.pid')}`,
    'log-file=stdout',
    'simple-log',
    'verbose',
  ];
  fs.writeFileSync(conf, `${lines.join('\n')}\n`, { mode: 0o600 });
  const proc = spawnProcess('coturn', 'turnserver', ['-c', conf]);
  try {
    // coturn logs this per listener once it is bound.
    await proc.waitForLine((l) => /UDP listener opened on/.test(l), 15_000);
  } catch (err) {
    await proc.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const allocation = /ALLOCATE processed, success/;
  return {
    urls: [`turn:127.0.0.1:${port}?transport=udp`, `turn:127.0.0.1:${port}?transport=tcp`],
    port,
    relayPorts: { min, max },
    output: proc.output,
    process: proc,
    allocations: () => proc.output.filter((l) => allocation.test(l)).length,
    async stop() {
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The ICE path a page's peer connection settled on (from `getStats()`). */
export interface SelectedPath {
  policy: string;
  state: string;
  local: { candidateType: string; address: string; port: number; relayProtocol?: string } | null;
  remote: { candidateType: string; address: string; port: number } | null;
}

/** Keeps every RTCPeerConnection the context's pages create in `window.__lookoutPcs`, for `selectedPaths`. */
export async function trackPeerConnections(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const pcs: RTCPeerConnection[] = [];
    (window as unknown as { __lookoutPcs: RTCPeerConnection[] }).__lookoutPcs = pcs;
    window.RTCPeerConnection = class extends Native {
      constructor(config?: RTCConfiguration) {
        super(config);
        pcs.push(this);
      }
    } as typeof RTCPeerConnection;
  });
}

/** The selected candidate pair of each open peer connection of the page (trackPeerConnections first). */
export async function selectedPaths(page: Page): Promise<SelectedPath[]> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __lookoutPcs?: RTCPeerConnection[] }).__lookoutPcs ?? [];
    const out: SelectedPath[] = [];
    for (const pc of pcs) {
      if (pc.connectionState === 'closed') continue;
      const stats = new Map<string, Record<string, unknown>>();
      (await pc.getStats()).forEach((s: Record<string, unknown>) => stats.set(s.id as string, s));
      const transport = [...stats.values()].find((s) => s.type === 'transport');
      const pair = stats.get(transport?.selectedCandidatePairId as string) ?? [...stats.values()].find((s) => s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated);
      const cand = (id: unknown) => {
        const c = stats.get(id as string);
        return c ? { candidateType: c.candidateType as string, address: (c.address ?? c.ip) as string, port: c.port as number, ...(c.relayProtocol ? { relayProtocol: c.relayProtocol as string } : {}) } : null;
      };
      out.push({ policy: pc.getConfiguration().iceTransportPolicy ?? 'all', state: pc.connectionState, local: pair ? cand(pair.localCandidateId) : null, remote: pair ? cand(pair.remoteCandidateId) : null });
    }
    return out;
  });
}

/**
 * The relay candidates the page's Chromium gathers with only these ICE servers
 * (`iceTransportPolicy: 'relay'`): none when the TURN server refuses the credentials.
 */
export async function gatherRelayCandidates(page: Page, iceServers: RTCIceServer[], timeoutMs = 10_000): Promise<string[]> {
  return page.evaluate(
    async ({ iceServers, timeoutMs }) => {
      const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
      const found: string[] = [];
      pc.onicecandidate = (e) => e.candidate && / typ relay /.test(e.candidate.candidate) && found.push(e.candidate.candidate);
      pc.createDataChannel('probe');
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && (clearTimeout(timer), resolve());
      });
      pc.close();
      return found;
    },
    { iceServers, timeoutMs },
  );
}
