import { CredentialChecks } from '../src/ws/credential-checks.js';

/** A check that settles when told to. */
function deferred(): { promise: Promise<string>; resolve: (v: string) => void; reject: (e: Error) => void } {
  let resolve!: (v: string) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const nextMacrotask = () => new Promise((r) => setImmediate(r));

describe('CredentialChecks: messages wait for a running check, in arrival order', () => {
  it('handles a message at once when no check runs', () => {
    const checks = new CredentialChecks(4, () => false);
    const seen: string[] = [];
    expect(checks.admit(() => seen.push('a'))).toBe(true);
    expect(seen).toEqual(['a']);
  });

  it('keeps a frame header and its JPEG together behind a check, after the check\'s own answer', async () => {
    const checks = new CredentialChecks(4, () => false);
    const seen: string[] = [];
    const check = deferred();
    void checks.run(() => check.promise).then((v) => seen.push(`answer ${v}`));
    checks.admit(() => seen.push('header'));
    checks.admit(() => seen.push('jpeg'));
    expect(seen).toEqual([]);
    check.resolve('joined');
    await nextMacrotask();
    await nextMacrotask();
    expect(seen).toEqual(['answer joined', 'header', 'jpeg']);
  });

  it('a message that arrives while the waiting ones are pending goes behind them', async () => {
    const checks = new CredentialChecks(4, () => false);
    const seen: string[] = [];
    const check = deferred();
    void checks.run(() => check.promise);
    checks.admit(() => seen.push('1'));
    check.resolve('ok');
    await Promise.resolve();
    checks.admit(() => seen.push('2'));
    await nextMacrotask();
    await nextMacrotask();
    expect(seen).toEqual(['1', '2']);
  });

  it('stops at a check started by a waiting message (a join) and goes on after it', async () => {
    const checks = new CredentialChecks(8, () => false);
    const seen: string[] = [];
    const first = deferred();
    const second = deferred();
    void checks.run(() => first.promise);
    checks.admit(() => {
      seen.push('join');
      void checks.run(() => second.promise);
    });
    checks.admit(() => seen.push('subscribe'));
    first.resolve('ok');
    await nextMacrotask();
    await nextMacrotask();
    expect(seen).toEqual(['join']);
    second.resolve('ok');
    await nextMacrotask();
    await nextMacrotask();
    expect(seen).toEqual(['join', 'subscribe']);
  });

  it('refuses more than its bound while a check runs, and drops what waits once the socket closes', async () => {
    let closing = false;
    const checks = new CredentialChecks(2, () => closing);
    const seen: string[] = [];
    const check = deferred();
    void checks.run(() => check.promise).catch(() => (closing = true));
    expect([checks.admit(() => seen.push('1')), checks.admit(() => seen.push('2')), checks.admit(() => seen.push('3'))]).toEqual([true, true, false]);
    check.reject(new Error('bad token'));
    await nextMacrotask();
    await nextMacrotask();
    expect(seen).toEqual([]);
  });
});
