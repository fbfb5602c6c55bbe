import type { Outgoing } from '../src/ws/outbox.js';
import { SendQueue, type DropClass } from '../src/ws/send-queue.js';

const DROPS: Record<string, DropClass> = { analysis: 'analysis', metrics: 'metrics', preview: 'preview' };

/** A message `type:n`; `stream` gives an expendable one its supersede key, as room-feeds does. */
const item = (type: string, n: number, opts: { stream?: string; atMs?: number } = {}): Outgoing => {
  const drop = DROPS[type] ?? 'keep';
  const key = opts.stream !== undefined && drop !== 'keep' ? `${type}:room/${opts.stream}` : undefined;
  return { type, drop, key, atMs: opts.atMs ?? 0, data: Buffer.from(`${type}:${n}${opts.stream ? `@${opts.stream}` : ''}`) };
};
const names = (items: Array<Outgoing | undefined>) => items.map((i) => i?.data.toString());

/** Takes everything at `now`: what would be sent, and what was stale. */
function drain(q: SendQueue<Outgoing>, now = 0): { sent: string[]; stale: string[] } {
  const sent: string[] = [];
  const stale: string[] = [];
  for (;;) {
    const next = q.take(now);
    stale.push(...names(next.stale).map(String));
    if (!next.item) return { sent, stale };
    sent.push(next.item.data.toString());
  }
}

describe('SendQueue: room (queue_full)', () => {
  it('keeps everything in order while there is room', () => {
    const q = new SendQueue<Outgoing>(3);
    for (const i of [item('analysis', 1), item('alert', 1), item('analysis', 2)]) expect(q.push(i)).toEqual({ overflow: false });
    expect(names(q.clear())).toEqual(['analysis:1', 'alert:1', 'analysis:2']);
  });

  it('makes room by dropping the oldest analysis, keeping alerts and order', () => {
    const q = new SendQueue<Outgoing>(3);
    q.push(item('alert', 1));
    q.push(item('analysis', 1));
    q.push(item('analysis', 2));
    expect(q.push(item('analysis', 3)).dropped).toEqual({ item: item('analysis', 1), reason: 'queue_full' });
    expect(q.push(item('alert', 2)).dropped).toEqual({ item: item('analysis', 2), reason: 'queue_full' });
    expect(names(q.clear())).toEqual(['alert:1', 'analysis:3', 'alert:2']);
  });

  it('drops analysis before metrics, and metrics before anything else', () => {
    const q = new SendQueue<Outgoing>(3);
    q.push(item('metrics', 1));
    q.push(item('analysis', 1));
    q.push(item('ack', 1));
    expect(names([q.push(item('metrics', 2)).dropped?.item])).toEqual(['analysis:1']);
    expect(names([q.push(item('alert', 1)).dropped?.item])).toEqual(['metrics:1']);
    expect(names(q.clear())).toEqual(['ack:1', 'metrics:2', 'alert:1']);
  });

  it('drops a new analysis when nothing queued may go, and overflows on an alert', () => {
    const q = new SendQueue<Outgoing>(2);
    q.push(item('alert', 1));
    q.push(item('signal', 1));
    const incoming = item('analysis', 1);
    expect(q.push(incoming)).toEqual({ dropped: { item: incoming, reason: 'queue_full' }, overflow: false });
    expect(q.push(item('alert', 2))).toEqual({ overflow: true });
    expect(names(q.clear())).toEqual(['alert:1', 'signal:1']);
  });

  it('drops previews first, and keeps at most its cap of them (the newest)', () => {
    const q = new SendQueue<Outgoing>(4, { classCaps: { preview: 2 } });
    q.push(item('preview', 1));
    q.push(item('analysis', 1));
    q.push(item('preview', 2));
    expect(q.push(item('preview', 3)).dropped).toEqual({ item: item('preview', 1), reason: 'queue_full' });
    q.push(item('alert', 1));
    // Full: the oldest preview makes room, before any analysis.
    expect(names([q.push(item('metrics', 1)).dropped?.item])).toEqual(['preview:2']);
    expect(names(q.clear())).toEqual(['analysis:1', 'preview:3', 'alert:1', 'metrics:1']);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new SendQueue(0)).toThrow(RangeError);
  });
});

describe('SendQueue: superseded', () => {
  it('a newer analysis of a stream replaces the queued one in its place in line', () => {
    const q = new SendQueue<Outgoing>(8);
    q.push(item('analysis', 1, { stream: 'a' }));
    q.push(item('alert', 1));
    q.push(item('analysis', 1, { stream: 'b' }));
    expect(q.push(item('analysis', 2, { stream: 'a' }))).toEqual({ dropped: { item: item('analysis', 1, { stream: 'a' }), reason: 'superseded' }, overflow: false });
    expect(q.push(item('analysis', 3, { stream: 'a' })).dropped?.reason).toBe('superseded');
    expect(q.length).toBe(3);
    // Stream a kept its turn (before b): a fast stream cannot push the others back.
    expect(drain(q).sent).toEqual(['analysis:3@a', 'alert:1', 'analysis:1@b']);
  });

  it('a slow client gets the newest result per stream, never a backlog, and every alert in order', () => {
    const q = new SendQueue<Outgoing>(64);
    for (let n = 1; n <= 100; n++) {
      for (const stream of ['a', 'b']) q.push(item('analysis', n, { stream }));
      q.push(item('metrics', n, { stream: 'a' }));
      q.push(item('preview', n, { stream: 'b' }));
      if (n % 20 === 0) q.push(item('alert', n));
    }
    expect(drain(q).sent).toEqual(['analysis:100@a', 'analysis:100@b', 'metrics:100@a', 'preview:100@b', 'alert:20', 'alert:40', 'alert:60', 'alert:80', 'alert:100']);
  });

  it('only the same type, room and stream supersede; messages without a key never do', () => {
    const q = new SendQueue<Outgoing>(8);
    q.push(item('analysis', 1, { stream: 'a' }));
    expect(q.push(item('metrics', 1, { stream: 'a' })).dropped).toBeUndefined();
    expect(q.push(item('analysis', 1, { stream: 'b' })).dropped).toBeUndefined();
    expect(q.push(item('analysis', 2)).dropped).toBeUndefined();
    expect(q.push(item('analysis', 3)).dropped).toBeUndefined();
    expect(q.length).toBe(5);
  });

  it('never supersedes keep-class messages, even with a key', () => {
    const q = new SendQueue<Outgoing>(8);
    const state = (n: number): Outgoing => ({ ...item('sfuevent', n), key: 'sfuevent:room/a' });
    q.push(state(1));
    expect(q.push(state(2))).toEqual({ overflow: false });
    expect(drain(q).sent).toEqual(['sfuevent:1', 'sfuevent:2']);
  });

  it('a superseded slot does not count twice against a class cap', () => {
    const q = new SendQueue<Outgoing>(8, { classCaps: { preview: 2 } });
    q.push(item('preview', 1, { stream: 'a' }));
    q.push(item('preview', 1, { stream: 'b' }));
    expect(q.push(item('preview', 2, { stream: 'a' })).dropped?.reason).toBe('superseded');
    expect(q.push(item('preview', 1, { stream: 'c' })).dropped).toEqual({ item: item('preview', 2, { stream: 'a' }), reason: 'queue_full' });
    expect(drain(q).sent).toEqual(['preview:1@b', 'preview:1@c']);
  });
});

describe('SendQueue: stale', () => {
  it('skips expendable messages older than maxAgeMs when their turn comes, by the clock given', () => {
    const q = new SendQueue<Outgoing>(8, { maxAgeMs: 2000 });
    q.push(item('analysis', 1, { atMs: 1000 }));
    q.push(item('metrics', 1, { atMs: 1000 }));
    q.push(item('preview', 1, { atMs: 1000 }));
    q.push(item('analysis', 2, { atMs: 2500 }));
    // Exactly maxAgeMs old is still fresh.
    expect(names([q.take(3000).item])).toEqual(['analysis:1']);
    const next = q.take(3001);
    expect(names(next.stale)).toEqual(['metrics:1', 'preview:1']);
    expect(names([next.item])).toEqual(['analysis:2']);
    expect(q.take(3001)).toEqual({ item: undefined, stale: [] });
  });

  it('never drops keep-class messages however old, and keeps their order', () => {
    const q = new SendQueue<Outgoing>(8, { maxAgeMs: 100 });
    q.push(item('alert', 1, { atMs: 0 }));
    q.push(item('analysis', 1, { atMs: 0 }));
    q.push(item('ack', 1, { atMs: 0 }));
    q.push(item('analysis', 2, { atMs: 9950 }));
    q.push(item('error', 1, { atMs: 0 }));
    expect(drain(q, 10_000)).toEqual({ sent: ['alert:1', 'ack:1', 'analysis:2', 'error:1'], stale: ['analysis:1'] });
  });

  it('without maxAgeMs nothing is stale', () => {
    const q = new SendQueue<Outgoing>(8);
    q.push(item('analysis', 1, { atMs: 0 }));
    expect(drain(q, Number.MAX_SAFE_INTEGER)).toEqual({ sent: ['analysis:1'], stale: [] });
  });
});
