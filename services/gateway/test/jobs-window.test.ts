import { InOrderWindow } from '../src/jobs/in-order-window.js';

/** Drains what reid may take now, in order, as the runner's reid loop does. */
function drain(w: InOrderWindow<string>, seen: string[]): void {
  for (let h = w.head(); h; h = w.head()) {
    seen.push(h.failed ? `${h.seq}:failed` : `${h.seq}:${h.value}`);
    w.acknowledge(h.seq);
  }
}

describe('InOrderWindow (a job\'s frames: any order at the detector, in order at reid)', () => {
  it('hands frames to reid in sequence although the detector answers out of order', () => {
    const w = new InOrderWindow<string>(4);
    for (let s = 0; s < 4; s++) w.admit(s);
    expect(w.full).toBe(true);
    expect(() => w.admit(4)).toThrow(/full window/);
    const seen: string[] = [];
    w.detected(2, 'c');
    w.detected(1, 'b');
    drain(w, seen);
    expect(seen).toEqual([]);
    expect(w.done).toBe(0);
    w.detected(0, 'a');
    drain(w, seen);
    expect(seen).toEqual(['0:a', '1:b', '2:c']);
    expect(w.done).toBe(3);
    expect(w.inFlight).toBe(1);
    expect(w.full).toBe(false);
    w.admit(4);
    w.detected(4, 'e');
    drain(w, seen);
    expect(seen).toHaveLength(3);
    w.detected(3, 'd');
    drain(w, seen);
    expect(seen).toEqual(['0:a', '1:b', '2:c', '3:d', '4:e']);
    expect(w.done).toBe(5);
  });

  it('a frame the detector could not read is skipped in its turn, not before', () => {
    const w = new InOrderWindow<string>(3);
    for (let s = 0; s < 3; s++) w.admit(s);
    const seen: string[] = [];
    w.failed(1);
    w.detected(2, 'c');
    drain(w, seen);
    expect(seen).toEqual([]);
    w.detected(0, 'a');
    drain(w, seen);
    expect(seen).toEqual(['0:a', '1:failed', '2:c']);
  });

  it('a retried head stays the head until it is acknowledged (reid uncommitted or unavailable)', () => {
    const w = new InOrderWindow<string>(2);
    w.admit(0);
    w.admit(1);
    w.detected(1, 'b');
    w.detected(0, 'a');
    // The runner asks reid, gets `uncommitted`, and asks again: nothing moves meanwhile.
    expect(w.head()).toEqual({ seq: 0, failed: false, value: 'a' });
    expect(w.head()).toEqual({ seq: 0, failed: false, value: 'a' });
    expect(() => w.acknowledge(1)).toThrow(/out of turn/);
    w.acknowledge(0);
    expect(w.head()).toEqual({ seq: 1, failed: false, value: 'b' });
  });

  it('resumes after a checkpoint: sequence numbers go on from there', () => {
    const w = new InOrderWindow<string>(2, 40);
    expect(w.done).toBe(40);
    expect(() => w.admit(0)).toThrow(/out of order/);
    w.admit(40);
    w.detected(40, 'x');
    expect(w.head()).toMatchObject({ seq: 40 });
    w.acknowledge(40);
    expect(w.done).toBe(41);
  });

  it('refuses answers for frames that are not at the detector', () => {
    const w = new InOrderWindow<string>(2);
    expect(() => w.detected(0, 'a')).toThrow(/not at the detector/);
    w.admit(0);
    w.detected(0, 'a');
    expect(() => w.detected(0, 'again')).toThrow(/not at the detector/);
    expect(() => new InOrderWindow(0)).toThrow(/positive integer/);
  });
});
