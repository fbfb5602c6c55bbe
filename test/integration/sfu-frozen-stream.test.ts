import { createHash } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeJson, sfuEvent, subjects, type SfuEvent } from '@lookout/contracts';
import { childPids, processCommandLine } from '@lookout/service-kit';
import { FIXTURES, metricValue, sfuOk, startNatsServer, startService, stopAllProcesses, type NatsServer, type RunningService } from '@lookout/testkit';

/**
 * Issue 18's frozen-stream flood: once the ingest's ffmpeg was killed, its relaunch restarted
 * RTP sequence numbers and timestamps under the same SSRC; the tap published nothing for
 * 16–45 s, then ~450 copies of one frozen frame a second while the room said `live`.
 */
const VIDEO = 'video/two-people-sequential-640x480-15fps.webm';
const INSTANCE = 'sfu-frozen';
const ROOM = 'frozen';
const FPS = 5;
/** What the tap may publish in any one second: the rate, the gate's 25% slack and its burst of 2. */
const MAX_PER_SECOND = Math.ceil(FPS * 1.25 + 2);

interface Frame {
  ms: number;
  hash: string;
}

describe('SFU: an ingest whose ffmpeg is killed or hangs ends in a live, changing picture, never a flood', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let sfu: RunningService;
  const frames = new Map<string, Frame[]>();
  const events: SfuEvent[] = [];
  const waiters = new Set<() => void>();

  /** Resolves once `check` holds, re-checked at every frame and event (no polling). */
  const until = <T>(what: string, check: () => T | undefined, timeoutMs = 60_000) =>
    new Promise<T>((resolve, reject) => {
      const test = () => {
        const v = check();
        if (v === undefined) return false;
        waiters.delete(waiter);
        clearTimeout(timer);
        resolve(v);
        return true;
      };
      const waiter = () => void test();
      const timer = setTimeout(() => (waiters.delete(waiter), reject(new Error(`timed out waiting for ${what}`))), timeoutMs);
      if (!test()) waiters.add(waiter);
    });
  const wake = () => [...waiters].forEach((w) => w());

  const watchStream = (stream: string) => {
    const list: Frame[] = [];
    frames.set(stream, list);
    nc.subscribe(subjects.frames(ROOM, stream), {
      callback: (_e, m) => {
        list.push({ ms: Date.now(), hash: createHash('sha1').update(m.data).digest('hex') });
        wake();
      },
    });
    return list;
  };

  /** The ingest's ffmpeg (the one pushing RTP), among the SFU's children; the tap's reads an SDP. */
  const ingestPid = async (): Promise<number | undefined> => {
    for (const pid of await childPids(sfu.child.pid!, 'ffmpeg')) {
      const args = await processCommandLine(pid);
      if (args?.some((a) => a.startsWith('rtp://'))) return pid;
    }
    return undefined;
  };

  /** `count` frames in a row after `fromMs`, each a different picture. */
  const changingAgain = (list: Frame[], fromMs: number, count = 10) =>
    until(`${count} distinct frames in a row`, () => {
      const after = list.filter((f) => f.ms >= fromMs);
      for (let i = 0; i + count <= after.length; i++) {
        const run = after.slice(i, i + count);
        if (new Set(run.map((f) => f.hash)).size === count) return run[0]!.ms;
      }
      return undefined;
    });

  const mostInOneSecond = (list: Frame[], fromMs: number, toMs: number) => {
    const times = list.filter((f) => f.ms >= fromMs && f.ms <= toMs).map((f) => f.ms);
    let most = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++;
      most = Math.max(most, i - j + 1);
    }
    return most;
  };

  const streamEvent = (stream: string, match: (e: SfuEvent) => boolean, from: number) =>
    until(`an event of ${stream}`, () => events.slice(from).find((e) => 'stream' in e && e.stream === stream && match(e)));

  const startIngest = async (stream: string) => {
    const list = watchStream(stream);
    await sfuOk(nc, INSTANCE, 'ingest', { room: ROOM, stream, url: VIDEO, loop: true });
    await until('frames before the fault', () => (list.length >= 10 ? true : undefined));
    return list;
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url, name: 'sfu-frozen-test' });
    nc.subscribe(subjects.sfuEventsAll(), {
      callback: (_e, m) => {
        events.push(decodeJson(sfuEvent, m.data));
        wake();
      },
    });
    sfu = await startService('sfu', nats.url, { INSTANCE_ID: INSTANCE, MEDIASOUP_WORKERS: '1', INGEST_FILE_ROOT: FIXTURES });
    await sfuOk(nc, INSTANCE, 'createRoom', { room: ROOM, sampleFps: FPS });
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await stopAllProcesses();
    await nats?.stop();
  });

  it('kill -9 of the ingest ffmpeg: relaunched, no flood over 20 s, a changing picture again, analysis live', async () => {
    const list = await startIngest('cam-killed');
    const pid = (await ingestPid())!;
    expect(pid).toEqual(expect.any(Number));
    const from = events.length;
    const killedMs = Date.now();
    process.kill(pid, 'SIGKILL');

    await streamEvent('cam-killed', (e) => e.type === 'stream_state' && e.state === 'reconnecting', from);
    await streamEvent('cam-killed', (e) => e.type === 'stream_state' && e.state === 'live', from);
    const changingMs = await changingAgain(list, killedMs + 1);
    console.log(`ingest killed: the picture changes again ${changingMs - killedMs} ms later`);
    expect(changingMs - killedMs).toBeLessThan(30_000);

    // The window the flood filled: 20 s from the kill, never over the room's rate.
    await until('20 s of frames after the kill', () => (Date.now() - killedMs >= 20_000 && list.at(-1)!.ms - killedMs >= 19_000 ? true : undefined), 40_000);
    const most = mostInOneSecond(list, killedMs, killedMs + 20_000);
    const total = list.filter((f) => f.ms >= killedMs && f.ms <= killedMs + 20_000).length;
    console.log(`after the kill: at most ${most} frames in one second, ${total} in 20 s (room rate ${FPS} fps)`);
    expect(most).toBeLessThanOrEqual(MAX_PER_SECOND);
    expect(total).toBeLessThanOrEqual(20 * FPS * 1.25 + 2);

    const newPid = await ingestPid();
    expect(newPid).toEqual(expect.any(Number));
    expect(newPid).not.toBe(pid);
    const info = (await sfuOk(nc, INSTANCE, 'listStreams', { room: ROOM })).find((s) => s.stream === 'cam-killed')!;
    expect(info).toMatchObject({ state: 'live', analysis: { state: 'live' } });
    const metrics = (await sfu.get('/metrics')).body;
    expect(metricValue(metrics, 'lookout_sfu_ffmpeg_restarts_total', { kind: 'ingest' })).toBe(1);
    await sfuOk(nc, INSTANCE, 'stopIngest', { room: ROOM, stream: 'cam-killed' });
  }, 120_000);

  it('an ingest ffmpeg that hangs (SIGSTOP): the analysis says stalled, the ingest is restarted, the picture lives again', async () => {
    const list = await startIngest('cam-hung');
    const pid = (await ingestPid())!;
    const from = events.length;
    const stoppedMs = Date.now();
    process.kill(pid, 'SIGSTOP');

    const stalled = await streamEvent('cam-hung', (e) => e.type === 'analysis_state' && e.analysis.state === 'stalled', from);
    expect(stalled).toMatchObject({ analysis: { code: 'stalled', reason: expect.stringContaining('no frame for 10 s') } });
    await until('the ingest watchdog', () => (sfu.output.some((l) => l.includes('ingest ffmpeg runs but sends nothing')) ? true : undefined));
    await streamEvent('cam-hung', (e) => e.type === 'analysis_state' && e.analysis.state === 'live', from);
    const changingMs = await changingAgain(list, stoppedMs + 1);
    console.log(`ingest hung: the picture changes again ${changingMs - stoppedMs} ms later`);
    expect(changingMs - stoppedMs).toBeLessThan(45_000);
    expect(mostInOneSecond(list, stoppedMs, Date.now())).toBeLessThanOrEqual(MAX_PER_SECOND);
    expect(await ingestPid()).not.toBe(pid);
    await sfuOk(nc, INSTANCE, 'stopIngest', { room: ROOM, stream: 'cam-hung' });
  }, 120_000);
});
