import { shouldAdopt } from '../../src/rooms/adoption.js';
import { retryDelayMs } from '../../src/rooms/ingest-restorer.js';
import { reconnectingSummary } from '../../src/rooms/room-manager.js';
import { decodeRecord, encodeRecord, newRecord, withIngest, withoutIngest, withSampleRate } from '../../src/rooms/room-records.js';

describe('SFU room records (what it takes to build a room again)', () => {
  it('follows the room through rate and ingest changes, the newest ingest of a stream winning', () => {
    let r = newRecord('r1', 5, 1);
    r = withIngest(r, { stream: 'cam', url: 'a.webm', loop: true }, 2);
    r = withIngest(r, { stream: 'door', url: 'rtsp://cam/1', loop: false }, 3);
    r = withIngest(r, { stream: 'cam', url: 'b.webm', loop: false }, 4);
    r = withSampleRate(r, 2, 5);
    expect(r).toEqual({
      room: 'r1',
      sampleFps: 2,
      ingests: [
        { stream: 'door', url: 'rtsp://cam/1', loop: false },
        { stream: 'cam', url: 'b.webm', loop: false },
      ],
      updatedMs: 5,
    });
    expect(withoutIngest(r, 'door', 6).ingests).toEqual([{ stream: 'cam', url: 'b.webm', loop: false }]);
    expect(withoutIngest(r, 'nope', 6).ingests).toHaveLength(2);
  });

  it('round-trips through its stored form and refuses a malformed one', () => {
    const r = withIngest(newRecord('r1', 5, 1), { stream: 'cam', url: 'a.webm', loop: true }, 2);
    expect(decodeRecord(encodeRecord(r))).toEqual(r);
    expect(() => decodeRecord(JSON.stringify({ ...r, sampleFps: 0 }))).toThrow(/sampleFps/);
    expect(() => decodeRecord(JSON.stringify({ ...r, ingests: [{ stream: 'cam' }] }))).toThrow();
    expect(() => decodeRecord(JSON.stringify({ ...r, room: 'bad room' }))).toThrow(/room/);
    expect(() => encodeRecord({ ...r, extra: 1 } as typeof r)).toThrow();
    expect(() => decodeRecord('{')).toThrow();
  });

  it('shows a room being built again with its recorded ingests reconnecting', () => {
    const r = withIngest(newRecord('r1', 3, 1), { stream: 'cam', url: 'a.webm', loop: true }, 2);
    expect(reconnectingSummary(r, 10)).toEqual({
      room: 'r1',
      sampleFps: 3,
      streams: [{ stream: 'cam', source: 'ingest', state: 'reconnecting', analysis: { state: 'starting', sinceMs: 10, failures: 0 }, framesPublished: 0 }],
    });
  });
});

describe('SFU room adoption decision', () => {
  it('adopts rooms nobody holds, its own from before a restart, and a dead holder\'s; never a live holder\'s', () => {
    expect(shouldAdopt({ self: 'a', owner: undefined, ownerAlive: false })).toBe(true);
    expect(shouldAdopt({ self: 'a', owner: 'a', ownerAlive: true })).toBe(true);
    expect(shouldAdopt({ self: 'a', owner: 'b', ownerAlive: false })).toBe(true);
    expect(shouldAdopt({ self: 'a', owner: 'b', ownerAlive: true })).toBe(false);
  });
});

describe('SFU restored ingest retries', () => {
  it('wait 2 s, doubling, at most a minute', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((n) => retryDelayMs(n))).toEqual([2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(retryDelayMs(1, 100)).toBe(200);
  });
});
