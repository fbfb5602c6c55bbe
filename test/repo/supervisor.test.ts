// npm start's supervisor (scripts/supervisor.mjs): the restart bookkeeping on its own, then
// the supervisor with tiny real children (node -e) under a fast policy.
import { RESTART_DEFAULTS, RestartTracker, Supervisor, restartPolicyFromEnv, type RestartPolicy, type Verdict } from '../../scripts/supervisor.mjs';

const S = 1000;

describe('RestartTracker', () => {
  /** Crashes of a child that dies `upMs` after each start, restarted after each delay. */
  function crashLoop(policy: RestartPolicy, upMs: number, count: number): Verdict[] {
    const tracker = new RestartTracker(policy);
    const verdicts: Verdict[] = [];
    let startedAt = 0;
    for (let i = 0; i < count; i++) {
      const v = tracker.crashed(startedAt + upMs, startedAt);
      verdicts.push(v);
      if (v.giveUp) break;
      startedAt += upMs + v.delayMs;
    }
    return verdicts;
  }

  it('doubles the delay from 1 s up to 30 s and gives up on the 6th crash within the window', () => {
    const verdicts = crashLoop(RESTART_DEFAULTS, 100, 10);
    expect(verdicts.slice(0, 5)).toEqual([1, 2, 4, 8, 16].map((s, i) => ({ giveUp: false, delayMs: s * S, restart: i + 1 })));
    expect(verdicts[5]).toEqual({ giveUp: true, crashes: 6, spanMs: 31 * S + 500 });
    expect(verdicts).toHaveLength(6);
  });

  it('caps the delay at the maximum', () => {
    const verdicts = crashLoop({ ...RESTART_DEFAULTS, max: 100, windowMs: 1e9 }, 100, 8);
    expect(verdicts.map((v) => (v.giveUp ? 'gave up' : v.delayMs / S))).toEqual([1, 2, 4, 8, 16, 30, 30, 30]);
  });

  it('forgets crashes older than the window, and starts the backoff afresh after a window up', () => {
    const tracker = new RestartTracker({ ...RESTART_DEFAULTS, max: 2, windowMs: 60 * S });
    expect(tracker.crashed(10 * S, 0)).toMatchObject({ giveUp: false, delayMs: 1 * S });
    expect(tracker.crashed(20 * S, 11 * S)).toMatchObject({ giveUp: false, delayMs: 2 * S });
    // Up for a whole window: the two crashes above are forgotten and the delay is 1 s again.
    expect(tracker.crashed(100 * S, 22 * S)).toEqual({ giveUp: false, delayMs: 1 * S, restart: 3 });
    expect(tracker.crashed(102 * S, 101 * S)).toMatchObject({ giveUp: false, delayMs: 2 * S });
    expect(tracker.crashed(105 * S, 104 * S)).toEqual({ giveUp: true, crashes: 3, spanMs: 5 * S });
  });
});

describe('restartPolicyFromEnv', () => {
  it('has documented defaults, reads seconds, and names a bad variable', () => {
    expect(restartPolicyFromEnv({})).toEqual({ max: 5, windowMs: 120 * S, backoffMs: 1 * S, backoffMaxMs: 30 * S });
    expect(restartPolicyFromEnv({ RESTART_MAX: '2', RESTART_WINDOW_S: '10', RESTART_BACKOFF_S: '0.5', RESTART_BACKOFF_MAX_S: '4' })).toEqual({ max: 2, windowMs: 10 * S, backoffMs: 500, backoffMaxMs: 4 * S });
    expect(() => restartPolicyFromEnv({ RESTART_WINDOW_S: 'soon' })).toThrow('RESTART_WINDOW_S=soon');
    expect(() => restartPolicyFromEnv({ RESTART_MAX: '1.5' })).toThrow('RESTART_MAX=1.5');
  });
});

describe('Supervisor', () => {
  const FAST: RestartPolicy = { max: 2, windowMs: 60 * S, backoffMs: 20, backoffMaxMs: 100 };
  const node = (script: string) => ({ command: process.execPath, args: ['-e', script], ready: (l: string) => l === 'ready' });
  const STAYS_UP = "console.log('ready'); setInterval(() => {}, 1000)";

  /** A supervisor whose log lines can be awaited. */
  function supervised(policy: RestartPolicy) {
    const logs: string[] = [];
    const waiters: { match: RegExp; resolve: (l: string) => void }[] = [];
    let gaveUp: (reason: string) => void = () => {};
    const givenUp = new Promise<string>((resolve) => (gaveUp = resolve));
    const supervisor = new Supervisor({
      policy,
      stopGraceMs: 5000,
      log: (msg) => {
        logs.push(msg);
        for (const w of waiters.filter((x) => x.match.test(msg))) w.resolve(msg);
      },
      onGiveUp: (_name, reason) => gaveUp(reason),
    });
    const logged = (match: RegExp) => {
      const seen = logs.find((l) => match.test(l));
      return seen ? Promise.resolve(seen) : new Promise<string>((resolve) => waiters.push({ match, resolve }));
    };
    return { supervisor, logs, logged, givenUp };
  }

  let current: Supervisor | undefined;
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });

  it('restarts a child killed after it was ready, logging why and when', async () => {
    const { supervisor, logged } = supervised(FAST);
    current = supervisor;
    let restarted: (restart: number) => void = () => {};
    const back = new Promise<number>((resolve) => (restarted = resolve));
    await supervisor.start({ name: 'svc', ...node(STAYS_UP), onRestarted: (_line, n) => restarted(n) });
    const first = supervisor.pid('svc')!;
    process.kill(first, 'SIGKILL');
    expect(await logged(/exited/)).toBe('svc exited (signal SIGKILL); restarting in 0.02 s (restart 1)');
    expect(await back).toBe(1);
    expect(await logged(/is back/)).toMatch(/^svc is back after restart 1 \(pid \d+\)$/);
    expect(supervisor.pid('svc')).toBeGreaterThan(0);
    expect(supervisor.pid('svc')).not.toBe(first);
  });

  it('gives up on a child that keeps crashing, saying how often, how fast, and its last stderr lines', async () => {
    const { supervisor, logs, givenUp } = supervised(FAST);
    current = supervisor;
    await supervisor.start({ name: 'svc', ...node("console.log('ready'); console.error('config: port is not a number'); process.exit(3)") });
    const reason = await givenUp;
    expect(reason).toMatch(/^svc crashed 3 times in [\d.]+ s \(last: code 3; more than RESTART_MAX=2 restarts within RESTART_WINDOW_S=60\); its last stderr lines:\n {4}config: port is not a number/);
    expect(logs.filter((l) => l.includes('restarting in'))).toEqual(['svc exited (code 3); restarting in 0.02 s (restart 1)', 'svc exited (code 3); restarting in 0.04 s (restart 2)']);
    expect(logs.at(-1)).toBe(`giving up: ${reason}`);
    expect(supervisor.pid('svc')).toBeUndefined();
  });

  it('does not restart a child that exits before its first ready line: a start-up failure', async () => {
    const { supervisor, logs } = supervised(FAST);
    current = supervisor;
    await expect(supervisor.start({ name: 'svc', ...node("console.error('no model'); process.exit(2)") })).rejects.toThrow('svc exited before it was ready (code 2)');
    await expect(supervisor.start({ name: 'missing', command: '/no/such/command', ready: () => true })).rejects.toThrow(/missing exited before it was ready \(could not start: .*ENOENT/);
    expect(logs).toEqual([]);
  });

  it('stops children in the order given, and cancels a pending restart', async () => {
    const { supervisor, logged } = supervised({ ...FAST, backoffMs: 60 * S, backoffMaxMs: 60 * S });
    current = supervisor;
    const order: string[] = [];
    // Each child prints its name on SIGTERM and exits: the order of those lines is the stop order.
    const onTerm = (name: string) => `process.on('SIGTERM', () => { console.log('bye ${name}'); process.exit(0); }); ${STAYS_UP}`;
    const spv = new Supervisor({ policy: FAST, stopGraceMs: 5000, onLine: (_n, l) => l.startsWith('bye') && order.push(l) });
    try {
      await Promise.all(['a', 'b', 'c'].map((n) => spv.start({ name: n, ...node(onTerm(n)) })));
      await spv.stop(['c', 'a']);
      expect(order).toEqual(['bye c', 'bye a', 'bye b']);
    } finally {
      await spv.stop();
    }

    await supervisor.start({ name: 'svc', ...node(STAYS_UP) });
    process.kill(supervisor.pid('svc')!, 'SIGKILL');
    await logged(/restarting in 60 s/);
    await supervisor.stop();
    expect(supervisor.pid('svc')).toBeUndefined();
  });
});
