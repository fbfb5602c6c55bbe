import { LookoutError } from '@lookout/contracts';
import { Counter, createLogger, Registry } from '@lookout/service-kit';
import { FrameScheduler } from '../src/frames/frame-scheduler.js';
import { FrameWorker, type FrameWorkerOptions } from '../src/frames/frame-worker.js';

const drain = <L, J>(s: FrameScheduler<L, J>) => {
  const out: string[] = [];
  for (let t = s.next(); t; t = s.next()) out.push(`${t.kind}:${String(t.item)}`);
  return out;
};

describe('FrameScheduler', () => {
  it('takes every waiting live frame before any job frame', () => {
    const s = new FrameScheduler<string, string>(8);
    s.pushJob('job', 'j1');
    s.pushLive('room.a', 'a1');
    s.pushJob('job', 'j2');
    s.pushLive('room.b', 'b1');
    expect(s.next()).toEqual({ kind: 'live', item: 'a1' });
    // A live frame that arrives while jobs wait still goes first.
    s.pushLive('room.c', 'c1');
    expect(drain(s)).toEqual(['live:b1', 'live:c1', 'job:j1', 'job:j2']);
    expect(s.next()).toBeUndefined();
  });

  it('keeps the latest live frame of a stream, and every job frame in arrival order', () => {
    const s = new FrameScheduler<string, string>(8);
    expect(s.pushLive('room.a', 'a1')).toBeUndefined();
    expect(s.pushLive('room.a', 'a2')).toBe('a1');
    for (const j of ['j1', 'j2', 'j3']) expect(s.pushJob('job', j)).toBe(true);
    expect([s.liveWaiting, s.jobsWaiting]).toEqual([1, 3]);
    expect(drain(s)).toEqual(['live:a2', 'job:j1', 'job:j2', 'job:j3']);
  });

  it('refuses a job frame beyond the bound, and takes one again once a place is free', () => {
    const s = new FrameScheduler<string, string>(2);
    expect([s.pushJob('job', 'j1'), s.pushJob('job', 'j2'), s.pushJob('job', 'j3')]).toEqual([true, true, false]);
    // Live frames are not counted against the job bound.
    s.pushLive('room.a', 'a1');
    expect(s.next()).toEqual({ kind: 'live', item: 'a1' });
    expect(s.next()).toEqual({ kind: 'job', item: 'j1' });
    expect(s.pushJob('job', 'j4')).toBe(true);
    expect(drain(s)).toEqual(['job:j2', 'job:j4']);
  });

  it('jobs take turns, and a job that arrives at a full queue still gets its share of the places', () => {
    const s = new FrameScheduler<string, string>(4);
    for (const j of ['a1', 'a2', 'a3', 'a4']) expect(s.pushJob('a', j)).toBe(true);
    // Full: job a holds every place. Job b still gets in, up to its half of the bound...
    expect([s.pushJob('b', 'b1'), s.pushJob('b', 'b2'), s.pushJob('b', 'b3')]).toEqual([true, true, false]);
    // ...and a, holding more than its half, is refused until it is down to it.
    expect(s.pushJob('a', 'a5')).toBe(false);
    expect(s.jobsWaiting).toBe(6);
    expect([s.next()?.item, s.next()?.item, s.next()?.item, s.next()?.item]).toEqual(['a1', 'b1', 'a2', 'b2']);
    expect(s.pushJob('a', 'a5')).toBe(true);
    expect(s.pushJob('b', 'b3')).toBe(true);
    expect(drain(s)).toEqual(['job:a3', 'job:b3', 'job:a4', 'job:a5']);
  });

  it('clear() hands back what waited', () => {
    const s = new FrameScheduler<string, string>(4);
    s.pushLive('room.a', 'a1');
    s.pushJob('job', 'j1');
    expect(s.clear()).toEqual({ live: ['a1'], jobs: ['j1'] });
    expect(s.next()).toBeUndefined();
  });

  it('needs a positive bound', () => {
    expect(() => new FrameScheduler(0)).toThrow(RangeError);
  });
});

describe('FrameWorker.runJob', () => {
  // runJob uses neither NATS nor the pipeline: the worker is never started here.
  const worker = (maxJobFramesWaiting: number) => {
    const metrics = new Registry();
    const badMessages = new Counter({ name: 'bad_total', help: 'bad', labelNames: ['subject_kind', 'reason'], registers: [metrics] });
    const unused = undefined as never;
    const opts: FrameWorkerOptions = { nc: unused, pipeline: unused, settingsFor: unused, log: createLogger('test', 'silent', 'test'), metrics, badMessages, maxFrameAgeMs: 500, maxJobFramesWaiting, workerId: 'w' };
    return new FrameWorker(opts);
  };

  /** A job frame's work that finishes when the test says so. */
  const gate = () => {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { open, opened };
  };

  it('runs job frames one at a time in arrival order, answers busy beyond the bound, and unavailable to the waiting ones on stop', async () => {
    const w = worker(2);
    const order: string[] = [];
    const first = gate();
    const running = w.runJob('job', async () => {
      order.push('j1');
      await first.opened;
      return 'j1';
    });
    const waiting = ['j2', 'j3'].map((id) => w.runJob('job', async () => (order.push(id), id)));
    expect(w.jobsWaiting).toBe(2);
    await expect(w.runJob('job', async () => 'j4')).rejects.toMatchObject({ code: 'busy' });
    const stopped = w.stop();
    first.open();
    await expect(running).resolves.toBe('j1');
    for (const p of waiting) await expect(p).rejects.toMatchObject({ code: 'unavailable' });
    await stopped;
    expect(order).toEqual(['j1']);
    await expect(w.runJob('job', async () => 'late')).rejects.toBeInstanceOf(LookoutError);
  });

  it('answers a job frame whose analysis failed with that failure, and goes on with the next', async () => {
    const w = worker(4);
    const failed = w.runJob('job', async () => {
      throw new LookoutError('corrupt', 'bad');
    });
    const next = w.runJob('job', async () => 'next');
    await expect(failed).rejects.toMatchObject({ code: 'corrupt' });
    await expect(next).resolves.toBe('next');
    await w.stop();
  });
});
