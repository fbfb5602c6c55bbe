import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { FacesMessage } from '@lookout/contracts';
import { Registry, type Logger } from '@lookout/service-kit';
import { FrameIntake } from '../src/stream/frame-intake.js';

/** A message as the subscription hands it over: the subject names the stream. */
const msg = (stream: string, seq: number, captureMs: number): Msg => ({ subject: `faces.r.${stream}`, data: new TextEncoder().encode(JSON.stringify({ room: 'r', stream, seq, captureMs })) }) as unknown as Msg;

const log = { error: () => undefined, warn: () => undefined } as unknown as Logger;

/** An intake whose handler waits until the test releases each message. */
function setup(concurrency: number, maxFrameAgeMs = 1000, now = () => 10_000) {
  const metrics = new Registry();
  const started: string[] = [];
  const release = new Map<string, () => void>();
  const intake = new FrameIntake({
    nc: {} as NatsConnection,
    log,
    metrics,
    maxFrameAgeMs,
    concurrency,
    now,
    parse: (m) => {
      const f = JSON.parse(new TextDecoder().decode(m.data)) as FacesMessage;
      return f.seq < 0 ? undefined : f; // a negative seq stands for a bad message here
    },
    handle: (f) => {
      const key = `${f.stream}#${f.seq}`;
      started.push(key);
      return new Promise<void>((resolve) => release.set(key, resolve));
    },
  });
  const dropped = async (reason: string) => (await metrics.getSingleMetric('lookout_reid_frames_dropped_total')!.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
  const finish = async (key: string) => {
    release.get(key)!();
    await new Promise((r) => setImmediate(r));
  };
  return { intake, started, finish, dropped };
}

describe('FrameIntake (reid load shedding)', () => {
  it('handles up to `concurrency` streams at once, one message per stream at a time, in order', async () => {
    const { intake, started, finish } = setup(2);
    intake.accept(msg('a', 1, 9_900));
    intake.accept(msg('a', 2, 9_950));
    intake.accept(msg('b', 1, 9_900));
    intake.accept(msg('c', 1, 9_900));
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a#1', 'b#1']);
    await finish('a#1');
    // a#2 waited longest among the streams not in hand.
    expect(started).toEqual(['a#1', 'b#1', 'a#2']);
    await finish('b#1');
    expect(started.at(-1)).toBe('c#1');
  });

  it('keeps one waiting message per stream: a newer one supersedes it, in its place in line', async () => {
    const { intake, started, finish, dropped } = setup(1);
    intake.accept(msg('a', 1, 9_900));
    intake.accept(msg('a', 2, 9_900));
    intake.accept(msg('b', 1, 9_900));
    intake.accept(msg('a', 3, 9_900));
    expect(await dropped('superseded')).toBe(1);
    intake.accept(msg('a', -1, 9_900)); // bad: refused on receipt, supersedes nothing
    expect(await dropped('superseded')).toBe(1);
    await finish('a#1');
    await finish('a#3');
    expect(started).toEqual(['a#1', 'a#3', 'b#1']);
  });

  it('drops a message older than the limit when its turn comes, and stop sheds what waits', async () => {
    const { intake, started, finish, dropped } = setup(1, 1000);
    intake.accept(msg('a', 1, 9_900));
    intake.accept(msg('b', 1, 8_000)); // 2 s old at its turn
    intake.accept(msg('c', 1, 9_500));
    await finish('a#1');
    expect(await dropped('stale')).toBe(1);
    expect(started).toEqual(['a#1', 'c#1']);
    intake.accept(msg('d', 1, 9_900));
    const stopped = intake.stop();
    await finish('c#1');
    await stopped;
    expect(started).toEqual(['a#1', 'c#1']);
  });

  it('tells how many live messages wait, and whenIdle resolves once none does (recording-job frames give way)', async () => {
    const { intake, finish } = setup(1);
    await intake.whenIdle(60_000); // nothing waits: at once
    intake.accept(msg('a', 1, 9_900));
    intake.accept(msg('b', 1, 9_900));
    intake.accept(msg('c', 1, 9_900));
    expect(intake.waiting).toBe(2);
    let idle = false;
    const waited = intake.whenIdle(60_000).then(() => (idle = true));
    await finish('a#1');
    expect(intake.waiting).toBe(1);
    expect(idle).toBe(false);
    await finish('b#1'); // c is taken: none waits, though c is still in hand
    await waited;
    expect(intake.waiting).toBe(0);
  });

  it('whenIdle gives up waiting after its limit, and at stop', async () => {
    const { intake } = setup(1);
    intake.accept(msg('a', 1, 9_900));
    intake.accept(msg('b', 1, 9_900));
    await intake.whenIdle(5); // b never gets its turn here
    expect(intake.waiting).toBe(1);
    const waited = intake.whenIdle(60_000);
    void intake.stop();
    await waited;
  });
});
