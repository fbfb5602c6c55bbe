import { TypedEmitter } from '../src/typed-emitter.js';

type Events = { died: [index: number, pid: number]; closed: [] };

/** An owner: only it may emit and drop listeners (both are protected). */
class Source extends TypedEmitter<Events> {
  fire<K extends keyof Events & string>(event: K, ...args: Events[K]): boolean {
    return this.emit(event, ...args);
  }
  close(): void {
    this.removeAllListeners();
  }
}

describe('TypedEmitter', () => {
  it('calls every listener in order with the arguments, a once listener once, and none after off()', () => {
    const s = new Source();
    const seen: string[] = [];
    const a = (i: number, pid: number) => seen.push(`a${i}:${pid}`);
    s.on('died', a);
    s.once('died', (i) => seen.push(`once${i}`));
    expect(s.fire('died', 0, 10)).toBe(true);
    expect(s.fire('died', 1, 11)).toBe(true);
    s.off('died', a);
    expect(s.fire('died', 2, 12)).toBe(false);
    expect(seen).toEqual(['a0:10', 'once0', 'a1:11']);
  });

  it('a listener that throws stops neither the others nor the owner; the error is reported', () => {
    const errors: Array<[string, unknown]> = [];
    const s = new Source((event, err) => errors.push([event, err]));
    let after = 0;
    s.on('closed', () => {
      throw new Error('boom');
    });
    s.on('closed', () => after++);
    expect(() => s.fire('closed')).not.toThrow();
    expect(after).toBe(1);
    expect(errors).toEqual([['closed', new Error('boom')]]);
  });

  it('has no listeners once its owner closes', () => {
    const s = new Source();
    s.on('closed', () => undefined);
    s.on('died', () => undefined);
    s.close();
    expect([s.listenerCount('closed'), s.listenerCount('died')]).toEqual([0, 0]);
    expect(s.fire('closed')).toBe(false);
  });
});
