import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeFacesMessage, streamKey, subjects } from '@lookout/contracts';
import { Counter, type Logger, type Registry } from '@lookout/service-kit';
import type { CadenceTracker } from '../pipeline/cadence.js';
import { runsInFacesMessage } from '../pipeline/peer-runs.js';

export interface PeerCadenceOptions {
  nc: NatsConnection;
  log: Logger;
  metrics: Registry;
  badMessages: Counter<'subject_kind' | 'reason'>;
  cadence: CadenceTracker;
  /** This replica's id: runs from its own messages are not counted as learned. */
  workerId: string;
  /** MAX_ANALYSIS_SIDE: the scale this replica analyses a frame at. */
  maxSide: number;
}

/**
 * Shares slow-analyzer cadences between replicas. Frames of one stream are spread over the
 * replicas of the queue group, so a replica that kept only its own runs would run a
 * stream's expression, liveness and text about R times as often with R replicas, and
 * carry results older than the newest. Every replica instead reads every replica's faces
 * messages (`faces.>`, outside the queue group: they already say which stages ran on
 * which frame and what each found) into its tracker. Soft state through NATS, no new
 * subject: a lost message costs one extra run. Two replicas may still both run an
 * analyzer on frames they analyse at the same moment, before either has published.
 */
export class PeerCadence {
  private sub: Subscription | undefined;
  private readonly learned: Counter<'analyzer'>;

  constructor(private readonly o: PeerCadenceOptions) {
    this.learned = new Counter({
      name: 'lookout_detector_peer_runs_total',
      help: "Slow-analyzer runs learned from other replicas' faces messages (they move this replica's cadence and are carried like its own)",
      labelNames: ['analyzer'],
      registers: [o.metrics],
    });
  }

  start(): void {
    this.sub = this.o.nc.subscribe(subjects.all('faces'), {
      callback: (err, msg) => {
        if (err) this.o.log.error({ err }, 'faces subscription error');
        else this.learn(msg);
      },
    });
  }

  private learn(msg: Msg): void {
    let faces;
    try {
      faces = decodeFacesMessage(msg.subject, msg.data);
    } catch (e) {
      this.o.badMessages.inc({ subject_kind: 'faces', reason: 'invalid' });
      this.o.log.warn({ subject: msg.subject, error: (e as Error).message }, 'ignored bad faces message');
      return;
    }
    // This replica's own messages come back too. Recording them again changes nothing (the
    // same run, already recorded when it ran), and not skipping them by worker id keeps
    // cadences shared even where replicas were given the same INSTANCE_ID.
    const own = faces.worker === this.o.workerId;
    const key = streamKey(faces.room, faces.stream);
    for (const run of runsInFacesMessage(faces, this.o.maxSide)) {
      this.o.cadence.record(key, run.analyzer, faces.captureMs, run.results);
      if (!own) this.learned.inc({ analyzer: run.analyzer });
    }
  }

  stop(): void {
    if (this.sub && !this.sub.isClosed()) this.sub.unsubscribe();
  }
}
