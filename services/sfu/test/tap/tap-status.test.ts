import type { StreamAnalysis } from '@lookout/contracts';
import { TapStatus } from '../../src/tap/tap-status.js';

describe('TapStatus: a stream\'s analysis state from its tap\'s starts, frames and failures', () => {
  const make = () => {
    const changes: StreamAnalysis[] = [];
    const status = new TapStatus(0, (a) => changes.push(a));
    return { status, changes };
  };

  it('starts, goes live on the first frame, and reports frames without an event per frame', () => {
    const { status, changes } = make();
    expect(status.current).toEqual({ state: 'starting', sinceMs: 0, failures: 0 });
    status.frame(500);
    status.frame(700);
    expect(status.current).toEqual({ state: 'live', sinceMs: 500, failures: 0, lastFrameMs: 700 });
    expect(changes.map((c) => c.state)).toEqual(['live']);
  });

  it('retries with doubling backoff, and is unavailable after three failures in a row', () => {
    const { status, changes } = make();
    expect(status.failed(100, 'no_port', 'no free RTP port pair in 20000-20003')).toBe(1000);
    expect(status.current).toMatchObject({ state: 'retrying', failures: 1, code: 'no_port', reason: 'no free RTP port pair in 20000-20003' });
    expect(status.failed(1200, 'exited', 'ffmpeg exited with code 1')).toBe(2000);
    expect(status.current.state).toBe('retrying');
    expect(status.failed(3300, 'exited', 'ffmpeg exited with code 1')).toBe(4000);
    expect(status.current).toMatchObject({ state: 'unavailable', sinceMs: 3300, failures: 3, code: 'exited' });
    for (let i = 0; i < 5; i++) status.failed(4000 + i, 'exited', 'ffmpeg exited with code 1');
    expect(status.failed(5000, 'exited', 'ffmpeg exited with code 1')).toBe(10_000);
    expect(status.current.sinceMs).toBe(3300);
    expect(changes.map((c) => c.state)).toEqual(['retrying', 'retrying', 'unavailable']);
  });

  it('is unavailable without waiting for three failures when starts yield nothing for long (a hung start)', () => {
    const { status } = make();
    status.frame(1000);
    status.failed(25_000, 'no_frames', 'no frame decoded within 20 s');
    // Dry since the failure of a live tap, not since the last frame: one stall is a retry.
    expect(status.current.state).toBe('retrying');
    status.failed(46_000, 'no_frames', 'no frame decoded within 20 s');
    expect(status.current).toMatchObject({ state: 'unavailable', failures: 2, lastFrameMs: 1000 });
  });

  it('clears the failure and its reason when frames flow again', () => {
    const { status, changes } = make();
    for (const t of [0, 1, 2]) status.failed(t, 'spawn', 'cannot run ffmpeg: spawn ffmpeg ENOENT');
    status.frame(10_000);
    expect(status.current).toEqual({ state: 'live', sinceMs: 10_000, failures: 0, lastFrameMs: 10_000 });
    expect(changes.at(-1)).toEqual({ state: 'live', sinceMs: 10_000, failures: 0, lastFrameMs: 10_000 });
  });

  it('a paused producer is not a failure; resuming starts afresh', () => {
    const { status } = make();
    status.frame(100);
    status.failed(200, 'stalled', 'no frame for 10 s');
    status.paused(300);
    expect(status.current).toEqual({ state: 'paused', sinceMs: 300, failures: 0, lastFrameMs: 100 });
    status.resumed(400);
    expect(status.current).toEqual({ state: 'starting', sinceMs: 400, failures: 0, lastFrameMs: 100 });
    status.resumed(500); // not paused: nothing changes
    expect(status.current.sinceMs).toBe(400);
  });

  it('a picture that stopped, froze or flooded is stalled (not a tap failure), and unavailable if it stays so', () => {
    const { status, changes } = make();
    status.frame(100);
    status.failed(5000, 'frozen', 'the picture has not changed for 5 s (26 identical frames)');
    expect(status.current).toMatchObject({ state: 'stalled', code: 'frozen', failures: 1, lastFrameMs: 100 });
    status.frame(6000);
    status.failed(7000, 'flooding', 'ffmpeg produced frames faster than the room rate');
    expect(status.current).toMatchObject({ state: 'stalled', code: 'flooding' });
    status.failed(8000, 'stalled', 'no frame for 10 s');
    status.failed(9000, 'frozen', 'the picture has not changed for 5 s');
    expect(status.current).toMatchObject({ state: 'unavailable', code: 'frozen', failures: 3 });
    expect(changes.map((c) => c.state)).toEqual(['live', 'stalled', 'live', 'stalled', 'stalled', 'unavailable']);
  });
});
