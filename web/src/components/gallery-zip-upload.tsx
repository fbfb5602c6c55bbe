import { useEffect, useRef, useState } from 'preact/hooks';
import type { EnrollJob } from '@lookout/contracts';
import { api } from '../lib/api';
import { errorText, formatBytes, uploadForm, type UploadProgress } from '../lib/upload';
import { reasonText } from './gallery-image-results';

const POLL_MS = 400;

type Phase = { kind: 'idle' } | { kind: 'uploading'; progress: UploadProgress } | { kind: 'enrolling' | 'done'; job: EnrollJob } | { kind: 'error'; error: unknown; job?: EnrollJob };

/**
 * Batch enrollment from a ZIP: the upload with its own progress bar (bytes sent), then
 * the job's progress (entries processed, polled), then a result per entry.
 */
export function GalleryZipUpload({ onDone }: { onDone: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);

  async function follow(job: EnrollJob): Promise<void> {
    while (alive.current && job.status === 'running') {
      setPhase({ kind: 'enrolling', job });
      await new Promise((r) => setTimeout(r, POLL_MS));
      job = await api<EnrollJob>(`/gallery/jobs/${job.jobId}`);
    }
    if (!alive.current) return;
    setPhase(job.status === 'failed' ? { kind: 'error', error: new Error(job.error?.message ?? 'The job failed'), job } : { kind: 'done', job });
    onDone();
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (!file) return;
    const form = new FormData();
    form.append('zip', file, file.name);
    setPhase({ kind: 'uploading', progress: { loaded: 0, total: file.size } });
    try {
      const job = await uploadForm<EnrollJob>('/gallery/jobs', form, { onProgress: (progress) => setPhase({ kind: 'uploading', progress }) });
      await follow(job);
    } catch (err) {
      setPhase({ kind: 'error', error: err });
    }
  }

  const busy = phase.kind === 'uploading' || phase.kind === 'enrolling';
  const job = 'job' in phase ? phase.job : undefined;
  return (
    <form class="card gallery-zip" onSubmit={(e) => void submit(e)} aria-labelledby="zip-title" data-testid="zip-form">
      <h2 id="zip-title">Batch enrollment (ZIP)</h2>
      <p class="muted gallery-hint" id="zip-hint">
        One folder per person (<code>ada_lovelace/1.jpg</code>) or one photo per person (<code>ada_lovelace.jpg</code>); JPEG and PNG only.
      </p>
      <div class="gallery-zip-pick">
        <label for="zip-file">ZIP archive</label>
        <input id="zip-file" type="file" accept=".zip,application/zip" aria-describedby="zip-hint" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        <button type="submit" disabled={!file || busy}>
          Upload and enroll
        </button>
      </div>
      {(phase.kind === 'uploading' || job) && <ZipProgress phase={phase} size={file?.size ?? 0} />}
      <p aria-live="polite" role="status" class="gallery-status">
        {phase.kind === 'uploading' && 'Uploading…'}
        {phase.kind === 'enrolling' && `Enrolling: ${job!.processed} of ${job!.total} files processed…`}
        {phase.kind === 'done' && `Done: ${job!.results.filter((r) => r.ok).length} enrolled, ${job!.results.filter((r) => !r.ok).length} rejected.`}
      </p>
      {phase.kind === 'error' && (
        <p class="error" role="alert">
          {errorText(phase.error)}
        </p>
      )}
      {job && job.results.length > 0 && <ZipResults job={job} />}
    </form>
  );
}

/** Two bars: bytes sent (from XHR upload events), then entries processed (from the job). */
function ZipProgress({ phase, size }: { phase: Phase; size: number }) {
  const job = 'job' in phase ? phase.job : undefined;
  // Once the upload is over its bar stays full, with the archive's size.
  const up = phase.kind === 'uploading' ? phase.progress : { loaded: size, total: size };
  const pct = up.total ? Math.round((100 * up.loaded) / up.total) : 0;
  return (
    <div class="gallery-progress">
      <label for="zip-upload-progress">Upload</label>
      <progress id="zip-upload-progress" max={100} value={pct} data-testid="zip-upload-progress" />
      <span>
        {pct}% {up.total ? `of ${formatBytes(up.total)}` : ''}
      </span>
      <label for="zip-job-progress">Enrollment</label>
      <progress id="zip-job-progress" max={job?.total || 1} value={job?.processed ?? 0} data-testid="zip-job-progress" />
      <span>{job ? `${job.processed} of ${job.total} files` : 'waiting for the upload'}</span>
    </div>
  );
}

function ZipResults({ job }: { job: EnrollJob }) {
  return (
    <div class="gallery-table-wrap">
      <table data-testid="zip-results">
        <caption class="visually-hidden">Result per file of the ZIP</caption>
        <thead>
          <tr>
            <th scope="col">Entry</th>
            <th scope="col">Person</th>
            <th scope="col">Result</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {job.results.map((r) => (
            <tr key={r.entry}>
              <td class="gallery-file">{breakable(r.entry)}</td>
              <td>{r.person ?? '—'}</td>
              <td>
                <span class={`status ${r.ok ? 'ok' : 'bad'}`}>{r.ok ? 'ok' : 'rejected'}</span>
              </td>
              <td>
                {r.error && (
                  <>
                    {r.error.message} <span class="muted">({reasonText(r.error.code)})</span>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The entry name with break opportunities after "/" and "_", so long names wrap at word-like points. */
function breakable(name: string) {
  return name.split(/(?<=[/_])/).map((part, i) => (i ? [<wbr />, part] : part));
}
