import { useEffect, useState } from 'preact/hooks';
import type { JobInfo } from '@lookout/contracts';
import { isFinal, jobSummary } from '../lib/job-progress';
import { listJobs } from '../lib/jobs';
import { href } from '../lib/route';
import { errorText } from '../lib/upload';

/** While a job in the list is still going, the list is reloaded this often. */
const REFRESH_MS = 5000;

/** Recording jobs, newest first: status, progress, links to the job and its report. */
export function RecordingJobList() {
  const [jobs, setJobs] = useState<JobInfo[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const list = (await listJobs()).sort((a, b) => b.createdMs - a.createdMs);
        if (!live) return;
        setJobs(list);
        setError(null);
        if (list.some((j) => !isFinal(j.status))) timer = setTimeout(() => void load(), REFRESH_MS);
      } catch (e) {
        if (live) setError(e);
      }
    };
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, []);

  if (jobs?.length === 0 && error === null) return null;
  return (
    <section class="card recording-jobs" aria-labelledby="jobs-title">
      <h2 id="jobs-title">Recordings</h2>
      {error !== null && (
        <p class="error" role="alert">
          {errorText(error)}
        </p>
      )}
      {jobs && (
        <div class="session-table-wrap">
          <table data-testid="recording-jobs">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Created</th>
                <th scope="col">Report</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr key={j.jobId}>
                  <th scope="row">
                    <a href={href('sessions', { job: j.jobId })}>{j.name}</a>
                  </th>
                  <td>{j.status}</td>
                  <td>{jobSummary(j)}</td>
                  <td>{new Date(j.createdMs).toLocaleString()}</td>
                  <td>
                    <a href={href('sessions', { session: j.sessionId })} aria-label={`Report of ${j.name}`}>
                      report
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
