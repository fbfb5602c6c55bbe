import type { FacesMessage } from '@lookout/contracts';
import { Registry } from '@lookout/service-kit';
import { JobFrames } from '../src/jobs/job-frames.js';
import type { AnalyseOptions, FrameResult } from '../src/stream/frame-analyzer.js';

const frame = (seq: number, stream = 'video'): FacesMessage => ({ room: 'rec-j1', stream, seq, captureMs: 1_000 + seq * 200 }) as FacesMessage;

async function counted(metrics: Registry, outcome: string): Promise<number> {
  return (await metrics.getSingleMetric('lookout_reid_job_frames_total')!.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe('JobFrames (reid.analyze_frame)', () => {
  it('analyses a job frame through the shared path with { job: true } and answers its outcome', async () => {
    const metrics = new Registry();
    const calls: Array<[number, AnalyseOptions]> = [];
    const jobs = new JobFrames({
      analyse: async (f, opts) => (calls.push([f.seq, opts]), (f.seq === 3 ? 'late' : 'committed') as FrameResult),
      whenLiveIdle: () => Promise.resolve(),
      metrics,
      concurrency: 1,
      queueMax: 8,
      liveWaitMs: 2000,
    });
    expect(await jobs.handle(frame(4))).toEqual({ seq: 4, outcome: 'committed' });
    expect(await jobs.handle(frame(3))).toEqual({ seq: 3, outcome: 'late' });
    expect(calls).toEqual([
      [4, { job: true }],
      [3, { job: true }],
    ]);
    expect(await counted(metrics, 'committed')).toBe(1);
    expect(await counted(metrics, 'late')).toBe(1);
  });

  it('gives way to live frames for at most liveWaitMs counted from arrival; beyond the queue: busy, counted', async () => {
    const metrics = new Registry();
    let now = 50_000;
    const waits: number[] = [];
    const release: Array<() => void> = [];
    const jobs = new JobFrames({
      analyse: () => new Promise<FrameResult>((resolve) => release.push(() => resolve('committed'))),
      whenLiveIdle: (maxMs) => (waits.push(maxMs), Promise.resolve()),
      metrics,
      concurrency: 1,
      queueMax: 1,
      liveWaitMs: 2000,
      now: () => now,
    });
    const first = jobs.handle(frame(0, 'a'));
    const second = jobs.handle(frame(0, 'b')); // waits for the slot
    // Another frame of the job that already holds the one place (a new job would get its own share).
    await expect(jobs.handle(frame(1, 'b'))).rejects.toMatchObject({ code: 'busy' });
    expect(await counted(metrics, 'busy')).toBe(1);
    await new Promise((r) => setImmediate(r));
    now += 1500; // the second frame waited 1.5 s for the first
    release.shift()!();
    await first;
    await new Promise((r) => setImmediate(r));
    release.shift()!();
    await second;
    expect(waits).toEqual([2000, 500]);
    await jobs.stop();
  });
});
