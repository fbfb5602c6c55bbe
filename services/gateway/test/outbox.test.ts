import WebSocket from 'ws';
import { Outbox, type Outgoing } from '../src/ws/outbox.js';
import type { DropClass, DropReason } from '../src/ws/send-queue.js';

const DROPS: Record<string, DropClass> = { analysis: 'analysis', metrics: 'metrics', preview: 'preview' };
/** A message `type:n`; `stream` gives an expendable one its supersede key, as room-feeds does. */
const item = (type: string, n: number, opts: { stream?: string; atMs?: number } = {}): Outgoing => {
  const drop = DROPS[type] ?? 'keep';
  const key = opts.stream !== undefined && drop !== 'keep' ? `${type}:room/${opts.stream}` : undefined;
  return { type, drop, key, atMs: opts.atMs ?? 0, data: Buffer.from(`${type}:${n}`) };
};

/** A socket whose network takes `drain()` bytes at a time, like a slow but reading client. */
class FakeSocket {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  readonly written: string[] = [];
  private readonly callbacks: Array<() => void> = [];

  send(data: Buffer, _opts: unknown, cb: () => void): void {
    this.bufferedAmount += data.length;
    this.written.push(data.toString());
    this.callbacks.push(() => {
      this.bufferedAmount -= data.length;
      cb();
    });
  }

  /** The network took the oldest `n` sends. */
  drain(n = Infinity): void {
    for (let i = 0; i < n && this.callbacks.length > 0; i++) this.callbacks.shift()!();
  }
}

function setup(capacity: number, maxBufferedBytes: number, maxAgeMs = Infinity) {
  const ws = new FakeSocket();
  const dropped: Array<[string, DropReason]> = [];
  const clock = { now: 0 };
  let overflows = 0;
  const events = { sent: () => undefined, dropped: (m: Outgoing, reason: DropReason) => dropped.push([m.data.toString(), reason]), overflow: () => overflows++ };
  const outbox = new Outbox(ws as unknown as WebSocket, { capacity, maxBufferedBytes, maxAgeMs }, events, () => clock.now);
  return { ws, outbox, dropped, clock, overflows: () => overflows };
}

describe('Outbox', () => {
  it('a slow but reading client gets every alert and the newest analysis; old analysis is dropped', () => {
    // Each message is 10–11 bytes: at most two are in flight, four wait.
    const { ws, outbox, dropped, overflows } = setup(4, 20);
    for (let n = 1; n <= 40; n++) {
      outbox.push(item('analysis', n));
      if (n % 10 === 0) outbox.push(item('alert', n));
      if (n % 5 === 0) ws.drain(1); // reads one message per five produced
    }
    ws.drain();
    const alerts = ws.written.filter((w) => w.startsWith('alert'));
    expect(alerts).toEqual(['alert:10', 'alert:20', 'alert:30', 'alert:40']);
    expect(dropped.length).toBeGreaterThan(20);
    expect(dropped.every(([d, reason]) => d.startsWith('analysis') && reason === 'queue_full')).toBe(true);
    const seqs = ws.written.filter((w) => w.startsWith('analysis')).map((w) => Number(w.split(':')[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.at(-1)).toBe(40);
    expect(overflows()).toBe(0);
    expect(outbox.queued).toBe(0);
  });

  it('a slow client of one stream waits for one analysis at most: the rest are superseded', () => {
    const { ws, outbox, dropped } = setup(64, 20);
    for (let n = 1; n <= 40; n++) {
      outbox.push(item('analysis', n, { stream: 'cam' }));
      if (n % 10 === 0) outbox.push(item('alert', n));
      expect(outbox.queued).toBeLessThanOrEqual(1 + n / 10);
      if (n % 5 === 0) ws.drain(1);
    }
    ws.drain();
    expect(ws.written.filter((w) => w.startsWith('alert'))).toEqual(['alert:10', 'alert:20', 'alert:30', 'alert:40']);
    expect(ws.written.filter((w) => w.startsWith('analysis')).at(-1)).toBe('analysis:40');
    expect(dropped.length).toBeGreaterThan(20);
    expect(dropped.every(([d, reason]) => d.startsWith('analysis') && reason === 'superseded')).toBe(true);
  });

  it('drops what waited past maxAgeMs when the socket can take it, and sends the alerts', () => {
    const { ws, outbox, dropped, clock } = setup(64, 10, 2000);
    outbox.push(item('analysis', 1, { stream: 'a' })); // sent at once: 10 bytes fill the buffer
    outbox.push(item('analysis', 1, { stream: 'b', atMs: 0 }));
    outbox.push(item('alert', 1, { atMs: 0 }));
    clock.now = 2500;
    outbox.push(item('analysis', 2, { stream: 'c', atMs: 2500 }));
    ws.drain();
    expect(ws.written).toEqual(['analysis:1', 'alert:1', 'analysis:2']);
    expect(dropped).toEqual([['analysis:1', 'stale']]);
  });

  it('reports overflow when the queue fills with messages that cannot be dropped', () => {
    const { outbox, overflows } = setup(3, 10);
    for (let n = 1; n <= 6; n++) outbox.push(item('alert', n));
    // 7 bytes each: two are in flight (14 > 10), three wait, the sixth overflows.
    expect(outbox.queued).toBe(3);
    expect(overflows()).toBe(1);
  });

  it('is stuck only after the buffer stays over the limit for stuckMs', () => {
    const { ws, outbox } = setup(4, 10);
    outbox.push(item('analysis', 1));
    expect(outbox.isStuck(1000, 500)).toBe(false);
    expect(outbox.isStuck(1400, 500)).toBe(false);
    ws.drain();
    expect(outbox.isStuck(1600, 500)).toBe(false); // it read: the clock starts again
    outbox.push(item('analysis', 2));
    expect(outbox.isStuck(1700, 500)).toBe(false);
    expect(outbox.isStuck(2200, 500)).toBe(true);
  });

  it('a slow viewer holds only the newest previews, and still gets every alert', () => {
    const { ws, outbox, dropped } = setup(64, 20);
    for (let n = 1; n <= 50; n++) {
      outbox.push(item('preview', n));
      if (n % 10 === 0) outbox.push(item('alert', n));
    }
    expect(outbox.queued).toBeLessThanOrEqual(8 + 5);
    ws.drain();
    expect(ws.written.filter((w) => w.startsWith('alert'))).toEqual(['alert:10', 'alert:20', 'alert:30', 'alert:40', 'alert:50']);
    expect(ws.written.filter((w) => w.startsWith('preview')).at(-1)).toBe('preview:50');
    expect(dropped.every(([d]) => d.startsWith('preview'))).toBe(true);
  });

  it('sends nothing after stop', () => {
    const { ws, outbox } = setup(4, 1000);
    outbox.stop();
    outbox.push(item('alert', 1));
    expect(ws.written).toEqual([]);
  });
});
