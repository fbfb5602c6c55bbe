#!/usr/bin/env node
// Runs the whole pipeline on this machine: a local nats-server (JetStream under ./data)
// unless NATS_URL is given, then every service. Prints the dashboard URL. Ctrl-C stops all.
// A service (or the local nats-server) that dies after it was ready is restarted with
// backoff (scripts/supervisor.mjs); one that keeps dying stops everything (exit 1), as
// does one that never gets ready on the first start.
//   PORT        gateway port (default 8080)
//   NATS_URL    use this NATS instead of starting one
//   NATS_PORT   port of the local nats-server (default 4222)
//   NATS_MONITOR_PORT  its monitoring port (default 8222)
//   DATA_DIR    where the local nats-server keeps JetStream data (default <repo>/data; a
//               relative path is taken from the directory npm start was run in)
//   LOG_FORMAT  "pretty" (default) or "json"
//   API_KEYS, TOKEN_SECRET  the gateway's admin keys and token secret; unset: generated once
//               into <DATA_DIR>/gateway-secrets.json (0600), the admin key printed at start
//   NATS_USER, NATS_PASSWORD  credentials for the NATS at NATS_URL. The local nats-server
//               requires a user per service (and `cli` for the nats CLI), passwords generated
//               once into <DATA_DIR>/nats-users.json (0600)
//   RESTART_MAX           restarts of one service allowed within RESTART_WINDOW_S; one
//                         more crash gives up and stops everything (default 5)
//   RESTART_WINDOW_S      the window crashes are counted in; a service up this long starts
//                         its backoff from the beginning again (default 120)
//   RESTART_BACKOFF_S     delay before the first restart, doubled for each next (default 1)
//   RESTART_BACKOFF_MAX_S the longest delay (default 30)
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSetup, workerBin } from './ensure-setup.mjs';
import { Supervisor, restartPolicyFromEnv } from './supervisor.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const gatewayPort = Number(env.PORT ?? 8080);
const natsPort = Number(env.NATS_PORT ?? 4222);
const natsMonitorPort = Number(env.NATS_MONITOR_PORT ?? 8222);
const pretty = (env.LOG_FORMAT ?? 'pretty') === 'pretty';
const SERVICES = ['detector', 'reid', 'sfu', 'gateway'];
let stopping = false;

const say = (msg) => console.log(`[lookout] ${msg}`);

/** Why `port` cannot be listened on at 127.0.0.1 (EADDRINUSE, EACCES), or undefined if it can. */
function portProblem(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (err) => resolve(err.code ?? err.message));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(undefined)));
  });
}

/** Fails early, naming the variable to change, when a port the launcher needs is taken. */
async function checkPorts(ports) {
  for (const [name, port, hint] of ports) {
    const problem = await portProblem(port);
    if (problem) {
      say(`port ${port} (${name}) is not free on 127.0.0.1 (${problem}); ${hint}`);
      process.exit(1);
    }
  }
}

// `npm start` runs in the repository root; a relative DATA_DIR means where the user was.
const dataRoot = env.DATA_DIR ? path.resolve(env.INIT_CWD ?? process.cwd(), env.DATA_DIR) : path.join(root, 'data');

const LEVELS = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** The HTTP port a service's "ready" line reports. */
function httpPortOf(readyLine) {
  const { httpPort, port } = JSON.parse(readyLine);
  return httpPort ?? port;
}

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

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  // Longer grace than a service's own SHUTDOWN_TIMEOUT_MS (10 s), so its deadline, which logs, comes first.
  await supervisor?.stop(['gateway', 'sfu', 'reid', 'detector', 'nats-server']);
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
  const dir = dataRoot;
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

/**
 * The local nats-server's users, one per service plus `cli` (for the nats CLI), so nothing
 * on this machine reaches NATS without a password. Passwords are generated once into
 * <DATA_DIR>/nats-users.json (0600) and reused; the server's config (deploy/nats.conf plus
 * the users) is written next to it at each start (0600), so no password is on a command
 * line, where `ps` would show it. Each service gets its own user through NATS_USER and
 * NATS_PASSWORD (its environment is readable by this user only).
 */
function natsUsers() {
  const file = path.join(dataRoot, 'nats-users.json');
  let saved = {};
  if (existsSync(file)) {
    try {
      saved = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${file}: not valid JSON (${err.message}); delete it to generate new NATS passwords`);
    }
  }
  // Passwords go into the server's config as quoted strings: base64url needs no escaping.
  const ok = (v) => typeof v === 'string' && /^[A-Za-z0-9_-]{24,}$/.test(v);
  const users = Object.fromEntries([...SERVICES, 'cli'].map((u) => [u, ok(saved[u]) ? saved[u] : randomBytes(24).toString('base64url')]));
  mkdirSync(dataRoot, { recursive: true });
  if (Object.entries(users).some(([u, p]) => saved[u] !== p)) writeFileSync(file, JSON.stringify(users, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  const conf = path.join(dataRoot, 'nats-server.conf');
  const entries = Object.entries(users).map(([u, p]) => `    { user: "${u}", password: "${p}" }`);
  const text = `# Written by npm start (scripts/start.mjs) at every start: deploy/nats.conf plus the users of ${file}.\n${readFileSync(path.join(root, 'deploy', 'nats.conf'), 'utf8')}\nauthorization {\n  users = [\n${entries.join('\n')}\n  ]\n}\n`;
  writeFileSync(conf, text, { mode: 0o600 });
  chmodSync(conf, 0o600);
  return { users, file, conf };
}

let supervisor;
try {
  supervisor = new Supervisor({
    policy: restartPolicyFromEnv(env),
    cwd: root,
    env,
    stopGraceMs: 15_000,
    log: say,
    onLine: (name, line) => console.log(formatLine(name, line)),
    onGiveUp: () => void shutdown(1),
  });
} catch (err) {
  say(err.message);
  process.exit(1);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGHUP', () => void shutdown(0));

ensureSetup();

let natsUrl = env.NATS_URL || undefined;
/** Per service: NATS_USER and NATS_PASSWORD for the local nats-server (none for one at NATS_URL: the environment's own apply). */
let natsEnv = () => ({});
try {
  await checkPorts([
    ['gateway', gatewayPort, 'set PORT to another port'],
    ...(natsUrl
      ? []
      : [
          ['NATS', natsPort, 'set NATS_URL to use the server there, or NATS_PORT for another port'],
          ['NATS monitoring', natsMonitorPort, 'set NATS_MONITOR_PORT to another port'],
        ]),
  ]);
  if (!natsUrl) {
    const dataDir = path.join(dataRoot, 'nats');
    mkdirSync(dataDir, { recursive: true });
    // deploy/nats.conf holds the settings shared with compose (plus users here); flags override its addresses.
    const auth = natsUsers();
    const args = ['-c', auth.conf, '-a', '127.0.0.1', '-p', String(natsPort), '-m', String(natsMonitorPort), '-js', '-sd', dataDir];
    // A restart reuses these arguments: same config, port and data dir, so the services' NATS connections, which retry forever, find it again.
    await supervisor.start({ name: 'nats-server', command: 'nats-server', args, ready: (l) => l.includes('Server is ready') });
    natsUrl = `nats://127.0.0.1:${natsPort}`;
    natsEnv = (s) => ({ NATS_USER: s, NATS_PASSWORD: auth.users[s] });
    say(`NATS users (one per service, and cli for the nats CLI): ${auth.file}`);
  }

  // The worker's path for this architecture, unless set (the SFU's own default is x86_64's).
  const common = { NATS_URL: natsUrl, HTTP_HOST: '127.0.0.1', MEDIASOUP_WORKER_BIN: workerBin };
  const secrets = gatewaySecrets();
  const ready = (l) => l.includes('"msg":"ready"');
  const readyLines = await Promise.all(
    SERVICES.map((s) =>
      supervisor.start({
        name: s,
        command: process.execPath,
        args: [path.join(root, 'services', s, 'dist', 'main.js')],
        // The one local SFU keeps its instance id across restarts, so a restarted SFU takes its
        // rooms back at once instead of waiting for the dead one's heartbeat to expire (docs/sfu.md).
        env: { ...common, ...natsEnv(s), ...(s === 'gateway' ? secrets.env : {}), ...(s === 'sfu' && !env.INSTANCE_ID ? { INSTANCE_ID: 'sfu-local' } : {}), HTTP_PORT: s === 'gateway' ? String(gatewayPort) : '0' },
        ready,
        // HTTP_PORT=0: a restarted service listens on a new port.
        onRestarted: (line) => say(`${s.padEnd(8)} metrics: http://127.0.0.1:${httpPortOf(line)}/metrics`),
      }),
    ),
  );
  const ports = readyLines.map(httpPortOf);
  for (const [i, s] of SERVICES.entries()) say(`${s.padEnd(8)} metrics: http://127.0.0.1:${ports[i]}/metrics`);
  say(`NATS:     ${natsUrl}`);
  // PORT=0 lets the gateway pick a free port: print the one it got.
  say(`Dashboard: http://127.0.0.1:${ports[SERVICES.indexOf('gateway')]}/`);
  if (secrets.adminKey) say(`Admin key: ${secrets.adminKey}  (kept in ${secrets.file}; set API_KEYS to use your own)`);
} catch (err) {
  // A service that dies while starting must not leave the others (or nats-server) behind.
  say(`start-up failed: ${err.message}`);
  await shutdown(1);
}

