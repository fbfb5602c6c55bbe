import { OwnedMedia } from '../src/ws/owned-media.js';

describe('a socket\'s media caps (gateway)', () => {
  it('counts creations in flight and held transports against WS_MAX_TRANSPORTS', () => {
    const owned = new OwnedMedia({ transports: 2, producers: 1 });
    const first = owned.reserve('transport');
    owned.reserve('transport');
    expect(() => owned.reserve('transport')).toThrow(expect.objectContaining({ code: 'too_many_transports', field: 'op', details: { scope: 'socket', limit: 2, setting: 'WS_MAX_TRANSPORTS' } }));
    // The first one was answered and recorded: still held, still counted.
    owned.transports.set('t1', 'r1');
    first();
    first();
    expect(() => owned.reserve('transport')).toThrow(expect.objectContaining({ code: 'too_many_transports' }));
  });

  it('a closed transport frees its slot and takes its producers and consumers with it', () => {
    const owned = new OwnedMedia({ transports: 1, producers: 1 });
    owned.transports.set('t1', 'r1');
    owned.producers.set('p1', 't1');
    owned.consumers.set('c1', 't1');
    expect(() => owned.reserve('producer')).toThrow(expect.objectContaining({ code: 'too_many_producers', message: expect.stringContaining('WS_MAX_PRODUCERS') }));
    owned.dropTransport('t1');
    expect([owned.transports.size, owned.producers.size, owned.consumers.size]).toEqual([0, 0, 0]);
    owned.reserve('transport')();
    owned.reserve('producer')();
  });

  it('a closed room (or its dead worker) frees everything the socket had in that room only', () => {
    const owned = new OwnedMedia({ transports: 4, producers: 4 });
    owned.transports.set('t1', 'r1');
    owned.transports.set('t2', 'r2');
    owned.producers.set('p1', 't1');
    owned.producers.set('p2', 't2');
    owned.dropRoom('r1');
    expect([...owned.transports.keys()]).toEqual(['t2']);
    expect([...owned.producers.keys()]).toEqual(['p2']);
  });
});
