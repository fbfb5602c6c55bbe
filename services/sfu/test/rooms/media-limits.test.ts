import type { LookoutError } from '@lookout/contracts';
import { MediaCounter, overCap, roomTransportCap } from '../../src/rooms/media-limits.js';

const caps = { perPeer: { max: 2, setting: 'MAX_TRANSPORTS_PER_PEER' }, perRoom: { max: 3, setting: 'MAX_TRANSPORTS_PER_ROOM' } };
const refusal = (f: () => unknown): LookoutError => {
  try {
    f();
  } catch (err) {
    return err as LookoutError;
  }
  throw new Error('not refused');
};

describe('media caps (SFU)', () => {
  it('refuses a peer past its cap, naming the setting, while other peers go on up to the room\'s', () => {
    const c = new MediaCounter('transport', caps, 'r1');
    c.acquire('alice');
    c.acquire('alice');
    const e = refusal(() => c.acquire('alice'));
    expect(e).toMatchObject({ code: 'too_many_transports', details: { scope: 'peer', limit: 2, setting: 'MAX_TRANSPORTS_PER_PEER' } });
    expect(e.message).toContain('peer alice in room r1 already has 2 WebRTC transports, the most MAX_TRANSPORTS_PER_PEER allows');
    c.acquire('bob');
    expect(refusal(() => c.acquire('carol'))).toMatchObject({ code: 'too_many_transports', details: { scope: 'room', limit: 3, setting: 'MAX_TRANSPORTS_PER_ROOM' } });
    expect(c.count).toBe(3);
  });

  it('gives a slot back once, however often released; a freed slot can be taken again', () => {
    const c = new MediaCounter('consumer', caps, 'r1');
    const release = c.acquire('alice');
    c.acquire('alice');
    release();
    release();
    expect(c.countOf('alice')).toBe(1);
    expect(c.count).toBe(1);
    c.acquire('alice');
    expect(refusal(() => c.acquire('alice'))).toMatchObject({ code: 'too_many_consumers' });
    expect(c.countOf('nobody')).toBe(0);
  });

  it('counts a slot taken and not yet released (a creation in flight) against the cap', () => {
    const c = new MediaCounter('producer', { perPeer: { max: 1, setting: 'MAX_PRODUCERS_PER_PEER' }, perRoom: { max: 10, setting: 'MAX_PRODUCERS_PER_ROOM' } }, 'r1');
    c.acquire('alice');
    expect(refusal(() => c.acquire('alice'))).toMatchObject({ code: 'too_many_producers', details: { scope: 'peer' } });
  });

  it('a room\'s transport cap is the lower of its port share and MAX_TRANSPORTS_PER_ROOM', () => {
    expect(roomTransportCap(1000, 0.25, 100)).toEqual({ max: 100, setting: 'MAX_TRANSPORTS_PER_ROOM' });
    expect(roomTransportCap(16, 0.5, 100)).toEqual({ max: 8, setting: 'ROOM_PORT_SHARE (0.5 of 16 ports)' });
    expect(roomTransportCap(3, 0.25, 100).max).toBe(0);
    expect(roomTransportCap(400, 0.25, 100)).toEqual({ max: 100, setting: 'MAX_TRANSPORTS_PER_ROOM' });
  });

  it('names the scope and limit in the error details', () => {
    expect(overCap('transport', 'room', 'room r', { max: 4, setting: 'X' }).toBody()).toEqual({
      code: 'too_many_transports',
      message: 'room r already has 4 WebRTC transports, the most X allows; close one first',
      details: { scope: 'room', limit: 4, setting: 'X' },
    });
  });
});
