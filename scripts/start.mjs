#!/usr/bin/env node
// Runs the whole pipeline on this machine: a local nats-server (JetStream under ./data)
// unless NATS_URL is given, then every service. Prints the dashboard URL. Ctrl-C stops all.
//   PORT        gateway port (default 8080)
//   NATS_URL    use this NATS instead of starting one
//   NATS_PORT   port of the local nats-server (default 4222)
//   NATS_MONITOR_PORT  its monitoring port (default 8222)
//   DATA_DIR    where the local nats-server keeps JetStream data (default ./data)
//   LOG_FORMAT  "pretty" (default) or "json"
//   API_KEYS, TOKEN_SECRET  the gateway's admin keys and token secret; unset: generated once
//               into <DATA_DIR>/gateway-secrets.json (0600), the admin key printed at start
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureSetup } from './ensure-setup.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const gatewayPort = Number(env.PORT ?? 8080);
const natsPort = Number(env.NATS_PORT ?? 4222);
const natsMonitorPort = Number(env.NATS_MONITOR_PORT ?? 8222);
const pretty = (env.LOG_FORMAT ?? 'pretty') === 'pretty';
const SERVICES = ['detector', 'reid', 'sfu', 'gateway'];
const children = new Map();
let stopping = false;

const say = (msg) => console.log(`[lookout] ${msg}`);

function portInUse(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
  });
}

const LEVELS = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function formatLine(name, line) {
  if (!pretty) return line;
  try {
    const { level, time: _t, service: _s, instance: _i, name: _n, pid: _p, hostname: _h, msg, ...rest } = JSON.parse(line);
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `[${name}] ${LEVELS[level] ?? level} ${msg}${extra}`;
  } catch {
    return `[${name}] ${line}`;
  }
}

function run(name, command, args, extraEnv, onLine) {
  const child = spawn(command, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(name, child);
  for (const s of [child.stdout, child.stderr]) {
    readline.createInterface({ input: s }).on('line', (line) => {
      console.log(formatLine(name, line));
      onLine?.(line);
    });
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      say(`${name} exited unexpectedly (code ${code}, signal ${signal}); stopping everything`);
      void shutdown(1);
    }
  });
  return child;
}

function waitForLine(name, command, args, extraEnv, match) {
  return new Promise((resolve, reject) => {
    const child = run(name, command, args, extraEnv, (line) => {
      if (match(line)) resolve(line);
    });
    child.once('exit', () => reject(new Error(`${name} exited before it was ready`)));
  });
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  const order = ['gateway', 'sfu', 'reid', 'detector', 'nats-server'];
  for (const name of order) {
    const child = children.get(name);
    if (!child) continue;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await new Promise((r) => child.once('exit', r));
    clearTimeout(killer);
  }
  process.exit(code);
}

/**
 * The gateway's admin API key and room-token secret, unless the environment sets them:
 * generated once into <DATA_DIR>/gateway-secrets.json (mode 0600) and reused, so tokens
 * and the admin key survive a restart.
 */
function gatewaySecrets() {
  const out = { env: {}, adminKey: undefined, file: undefined };
  if (env.API_KEYS && env.TOKEN_SECRET) return out;
  const dir = path.resolve(root, env.DATA_DIR ?? 'data');
  const file = path.join(dir, 'gateway-secrets.json');
  let saved = {};
  if (existsSync(file)) {
    try {
      saved = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${file}: not valid JSON (${err.message}); delete it to generate new secrets`);
    }
  }
  const ok = (v) => typeof v === 'string' && v.length >= 16;
  const secrets = { adminKey: ok(saved.adminKey) ? saved.adminKey : randomBytes(24).toString('base64url'), tokenSecret: ok(saved.tokenSecret) ? saved.tokenSecret : randomBytes(32).toString('base64url') };
  if (secrets.adminKey !== saved.adminKey || secrets.tokenSecret !== saved.tokenSecret) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  if (!env.API_KEYS) Object.assign(out, { adminKey: secrets.adminKey, file, env: { API_KEYS: `admin:${secrets.adminKey}` } });
  if (!env.TOKEN_SECRET) out.env.TOKEN_SECRET = secrets.tokenSecret;
  return out;
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGHUP', () => void shutdown(0));

ensureSetup();

let natsUrl = env.NATS_URL || undefined;
try {
  if (!natsUrl) {
    if (await portInUse(natsPort)) {
      say(`port ${natsPort} is taken; set NATS_URL to use that server, or NATS_PORT for another port`);
      process.exit(1);
    }
    const dataDir = path.join(path.resolve(root, env.DATA_DIR ?? 'data'), 'nats');
    mkdirSync(dataDir, { recursive: true });
    // deploy/nats.conf holds the settings shared with compose; flags override its addresses.
    const args = ['-c', path.join('deploy', 'nats.conf'), '-a', '127.0.0.1', '-p', String(natsPort), '-m', String(natsMonitorPort), '-js', '-sd', dataDir];
    await waitForLine('nats-server', 'nats-server', args, {}, (l) => l.includes('Server is ready'));
    natsUrl = `nats://127.0.0.1:${natsPort}`;
  }

  const common = { NATS_URL: natsUrl, HTTP_HOST: '127.0.0.1', MEDIASOUP_WORKER_BIN: env.MEDIASOUP_WORKER_BIN ?? '' };
  if (!common.MEDIASOUP_WORKER_BIN) delete common.MEDIASOUP_WORKER_BIN;
  const secrets = gatewaySecrets();
  const ready = (l) => l.includes('"msg":"ready"');
  const readyLines = await Promise.all(
    SERVICES.map((s) =>
      waitForLine(s, process.execPath, [path.join('services', s, 'dist', 'main.js')], { ...common, ...(s === 'gateway' ? secrets.env : {}), HTTP_PORT: s === 'gateway' ? String(gatewayPort) : '0' }, ready),
    ),
  );
  for (const [i, s] of SERVICES.entries()) {
    const { httpPort, port } = JSON.parse(readyLines[i]);
    say(`${s.padEnd(8)} metrics: http://127.0.0.1:${httpPort ?? port}/metrics`);
  }
  say(`NATS:     ${natsUrl}`);
  say(`Dashboard: http://127.0.0.1:${gatewayPort}/`);
  if (secrets.adminKey) say(`Admin key: ${secrets.adminKey}  (kept in ${secrets.file}; set API_KEYS to use your own)`);
} catch (err) {
  // A service that dies while starting must not leave the others (or nats-server) behind.
  say(`start-up failed: ${err.message}`);
  await shutdown(1);
}

