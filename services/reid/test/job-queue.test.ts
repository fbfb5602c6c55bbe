import { LookoutError } from '@lookout/contracts';
import { KeyedQueue } from '../src/jobs/job-queue.js';

/** A queue whose tasks wait until the test releases them; `started` lists them in start order. */
function setup(concurrency: number, max: number) {
  const queue = new KeyedQueue(concurrency, max);
  const started: string[] = [];
  const release = new Map<string, () => void>();
  const add = (key: string, name: string) =>
    queue.run(key, () => {
      started.push(name);
      return new Promise<string>((resolve) => release.set(name, () => resolve(name)));
    });
  const finish = async (name: string) => {
    release.get(name)!();
    await new Promise((r) => setImmediate(r));
  };
  return { queue, started, add, finish };
}

describe('KeyedQueue (recording-job frames on one reid replica)', () => {
  it('runs up to `concurrency` at once, never two of one key, in arrival order among free keys', async () => {
    const { queue, started, add, finish } = setup(2, 8);
    const results = [add('s1', 'a'), add('s1', 'a-retry'), add('s2', 'b'), add('s3', 'c')];
    expect(started).toEqual(['a', 'b']);
    expect(queue.size).toBe(2);
    await finish('a');
    // The retry of s1 came first and s1 is free again.
    expect(started).toEqual(['a', 'b', 'a-retry']);
    await finish('b');
    expect(started.at(-1)).toBe('c');
    await finish('a-retry');
    await finish('c');
    expect(await Promise.all(results)).toEqual(['a', 'a-retry', 'b', 'c']);
    await queue.drained();
  });

  it('refuses one more than `max` waiting with busy, at once, and takes work again when there is room', async () => {
    const { queue, add, finish } = setup(1, 1);
    const first = add('s1', 'a');
    const second = add('s2', 'b');
    await expect(add('s2', 'b2')).rejects.toMatchObject({ code: 'busy' });
    await expect(add('s2', 'b2')).rejects.toBeInstanceOf(LookoutError);
    await finish('a');
    await finish('b');
    const third = add('s2', 'b2');
    await finish('b2');
    expect(await Promise.all([first, second, third])).toEqual(['a', 'b', 'b2']);
    expect(queue.active).toBe(0);
  });

  it('a key that finds the queue full still gets its share of the places; the one holding more is refused', async () => {
    const { queue, add, finish } = setup(1, 4);
    const all = [add('job-a', 'a0'), ...['a1', 'a2', 'a3', 'a4'].map((n) => add('job-a', n))];
    expect(queue.size).toBe(4);
    // Full, all of it job a's: job b still gets in, up to half the places.
    all.push(add('job-b', 'b1'), add('job-b', 'b2'));
    await expect(add('job-b', 'b3')).rejects.toMatchObject({ code: 'busy' });
    await expect(add('job-a', 'a5')).rejects.toMatchObject({ code: 'busy' });
    expect(queue.size).toBe(6);
    for (const n of ['a0', 'a1', 'a2', 'a3', 'a4', 'b1', 'b2']) await finish(n);
    expect(await Promise.all(all)).toHaveLength(7);
  });

  it('with no room to wait, still runs a task that finds a free slot', async () => {
    const { add, finish } = setup(1, 0);
    const a = add('s1', 'a');
    await expect(add('s2', 'b')).rejects.toMatchObject({ code: 'busy' });
    await finish('a');
    expect(await a).toBe('a');
  });

  it('passes a task\'s failure to its caller and goes on; drained waits for all', async () => {
    const queue = new KeyedQueue(1, 8);
    const failing = queue.run('s1', () => Promise.reject(new Error('kv down')));
    const next = queue.run('s1', () => Promise.resolve(2));
    await expect(failing).rejects.toThrow('kv down');
    expect(await next).toBe(2);
    await queue.drained();
  });
});
