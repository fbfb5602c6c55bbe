import type { JobInfo } from '@lookout/contracts';
import { useEffect, useState } from 'preact/hooks';
import { isFinal, newerJob } from './job-progress';
import { getJob } from './jobs';
import { tokenSource } from './live-hooks';
import { LiveSocket, type LiveStatus } from './live-socket';

/** REST poll while the socket is not live, or when it has been quiet this long. */
const POLL_MS = 2000;
const QUIET_MS = 3000;

export interface JobFollow {
  job: JobInfo | null;
  error: unknown;
  /** How progress arrives now: the WebSocket feed, or the REST poll standing in for it. */
  via: 'socket' | 'poll';
}

/**
 * Follows a recording job until it is final: its room's WebSocket feed `job` (a viewer
 * token minted with the admin key; updates at most every second and at every change of
 * status), with `GET /jobs/:id` every 2 s whenever the socket is not live or has said
 * nothing for 3 s (queued jobs, a reconnecting socket, a gateway without the feed). Both
 * paths go through `newerJob`, so an older state never replaces a newer one.
 */
export function useJobFollow(jobId: string, reload = 0): JobFollow {
  const [job, setJob] = useState<JobInfo | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [via, setVia] = useState<JobFollow['via']>('poll');

  useEffect(() => {
    let live = true;
    let socket: LiveSocket | null = null;
    let socketStatus: LiveStatus = 'connecting';
    let heardMs = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let current: JobInfo | null = null;

    const take = (j: JobInfo) => {
      if (!live || j.jobId !== jobId) return;
      current = newerJob(current, j);
      setJob(current);
      if (isFinal(current.status)) stop();
      else if (!socket) openSocket(current.room);
    };
    const openSocket = (room: string) => {
      const tokens = tokenSource(new URLSearchParams(), room, 'viewer');
      if (!tokens) return;
      socket = new LiveSocket({ room, token: tokens.get, renewable: tokens.renewable, feeds: ['job'] });
      socket.on('status', (s) => (socketStatus = s.status));
      socket.on('job', (j) => ((heardMs = Date.now()), take(j)));
    };
    const poll = async () => {
      const quiet = socketStatus !== 'live' || Date.now() - heardMs > QUIET_MS;
      if (live) setVia(quiet ? 'poll' : 'socket');
      if (quiet || !current) {
        try {
          take(await getJob(jobId));
          if (live) setError(null);
        } catch (e) {
          if (live) setError(e);
        }
      }
      if (live && !(current && isFinal(current.status))) timer = setTimeout(() => void poll(), POLL_MS);
    };
    const stop = () => {
      clearTimeout(timer);
      socket?.close();
      socket = null;
    };

    void poll();
    return () => {
      live = false;
      stop();
    };
  }, [jobId, reload]);

  return { job, error, via };
}
