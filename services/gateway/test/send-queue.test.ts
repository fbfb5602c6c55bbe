import WebSocket from 'ws';
import { Outbox, type Outgoing } from '../src/ws/outbox.js';
import { SendQueue, type DropClass } from '../src/ws/send-queue.js';

const DROPS: Record<string, DropClass> = { analysis: 'analysis', metrics: 'metrics', preview: 'preview' };
const item = (type: string, n: number, drop: DropClass = DROPS[type] ?? 'keep'): Outgoing => ({ type, drop, data: Buffer.from(`${type}:${n}`) });
const names = (items: Outgoing[]) => items.map((i) => i.data.toString());

describe('SendQueue', () => {
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
    expect(names([q.push(item('analysis', 3)).dropped!])).toEqual(['analysis:1']);
    expect(names([q.push(item('alert', 2)).dropped!])).toEqual(['analysis:2']);
    expect(names(q.clear())).toEqual(['alert:1', 'analysis:3', 'alert:2']);
  });

  it('drops analysis before metrics, and metrics before anything else', () => {
    const q = new SendQueue<Outgoing>(3);
    q.push(item('metrics', 1));
    q.push(item('analysis', 1));
    q.push(item('ack', 1));
    expect(q.push(item('metrics', 2)).dropped?.data.toString()).toBe('analysis:1');
    expect(q.push(item('alert', 1)).dropped?.data.toString()).toBe('metrics:1');
    expect(names(q.clear())).toEqual(['ack:1', 'metrics:2', 'alert:1']);
  });

  it('drops a new analysis when nothing queued may go, and overflows on an alert', () => {
    const q = new SendQueue<Outgoing>(2);
    q.push(item('alert', 1));
    q.push(item('signal', 1));
    const incoming = item('analysis', 1);
    expect(q.push(incoming)).toEqual({ dropped: incoming, overflow: false });
    expect(q.push(item('alert', 2))).toEqual({ overflow: true });
    expect(names(q.clear())).toEqual(['alert:1', 'signal:1']);
  });

  it('drops previews first, and keeps at most its cap of them (the newest)', () => {
    const q = new SendQueue<Outgoing>(4, { preview: 2 });
    q.push(item('preview', 1));
    q.push(item('analysis', 1));
    q.push(item('preview', 2));
    expect(q.push(item('preview', 3)).dropped?.data.toString()).toBe('preview:1');
    q.push(item('alert', 1));
    // Full: the oldest preview makes room, before any analysis.
    expect(q.push(item('metrics', 1)).dropped?.data.toString()).toBe('preview:2');
    expect(names(q.clear())).toEqual(['analysis:1', 'preview:3', 'alert:1', 'metrics:1']);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new SendQueue(0)).toThrow(RangeError);
  });
});

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

describe('Outbox', () => {
  function setup(capacity: number, maxBuffered: number) {
    const ws = new FakeSocket();
    const dropped: string[] = [];
    let overflows = 0;
    const outbox = new Outbox(ws as unknown as WebSocket, capacity, maxBuffered, { sent: () => undefined, dropped: (m) => dropped.push(m.data.toString()), overflow: () => overflows++ });
    return { ws, outbox, dropped, overflows: () => overflows };
  }

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
    expect(dropped.every((d) => d.startsWith('analysis'))).toBe(true);
    const seqs = ws.written.filter((w) => w.startsWith('analysis')).map((w) => Number(w.split(':')[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.at(-1)).toBe(40);
    expect(overflows()).toBe(0);
    expect(outbox.queued).toBe(0);
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
    expect(dropped.every((d) => d.startsWith('preview'))).toBe(true);
  });

  it('sends nothing after stop', () => {
    const { ws, outbox } = setup(4, 1000);
    outbox.stop();
    outbox.push(item('alert', 1));
    expect(ws.written).toEqual([]);
  });
});
