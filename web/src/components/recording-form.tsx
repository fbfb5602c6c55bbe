import { useEffect, useRef, useState } from 'preact/hooks';
import { JOB_FPS, type JobInfo, type SubjectSummary } from '@lookout/contracts';
import { api } from '../lib/api';
import { createUrlJob, uploadJob, type JobOptions } from '../lib/jobs';
import { href } from '../lib/route';
import { errorField, errorText, formatBytes, type UploadProgress } from '../lib/upload';

type Source = 'file' | 'url';
type Phase = { kind: 'idle' } | { kind: 'uploading'; progress: UploadProgress } | { kind: 'sending' } | { kind: 'error'; error: unknown };

/**
 * "Analyse a recording": a video file (uploaded with a progress bar) or an http(s) URL the
 * gateway downloads, sampled at `fps`; once the job is created its progress page opens.
 */
export function RecordingForm() {
  const [source, setSource] = useState<Source>('file');
  const [file, setFile] = useState<File | null>(null);
  const [url, setUrl] = useState('');
  const [opts, setOpts] = useState<JobOptions>({ name: '', fps: '', expectedSubjectId: '' });
  const [subjects, setSubjects] = useState<SubjectSummary[]>([]);
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const abort = useRef<AbortController | null>(null);
  const bad = phase.kind === 'error' ? errorField(phase.error) : undefined;

  useEffect(() => {
    // Suggestions only: the form works without the gallery.
    api<{ subjects: SubjectSummary[] }>('/gallery/subjects?limit=1000').then((r) => setSubjects(r.subjects), () => undefined);
    return () => abort.current?.abort();
  }, []);

  async function submit(e: Event) {
    e.preventDefault();
    try {
      let job: JobInfo;
      if (source === 'file') {
        if (!file) return;
        abort.current = new AbortController();
        setPhase({ kind: 'uploading', progress: { loaded: 0, total: file.size } });
        job = await uploadJob(file, opts, (progress) => setPhase({ kind: 'uploading', progress }), abort.current.signal);
      } else {
        setPhase({ kind: 'sending' });
        job = await createUrlJob(url, opts);
      }
      location.hash = href('sessions', { job: job.jobId });
    } catch (err) {
      if ((err as Error).name === 'AbortError') setPhase({ kind: 'idle' });
      else setPhase({ kind: 'error', error: err });
    }
  }

  const set = (k: keyof JobOptions) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) => setOpts({ ...opts, [k]: e.currentTarget.value });
  const busy = phase.kind === 'uploading' || phase.kind === 'sending';
  return (
    <form id="recording-form" class="card recording-form" onSubmit={(e) => void submit(e)} aria-labelledby="recording-title" data-testid="recording-form">
      <h2 id="recording-title">Analyse a recording</h2>
      <p class="muted">Every sampled frame is analysed, as fast as the detectors allow, into the same report as a live session.</p>
      <fieldset class="row recording-source">
        <legend>Video from</legend>
        <label>
          <input type="radio" name="recording-source" checked={source === 'file'} onChange={() => setSource('file')} /> a file
        </label>
        <label>
          <input type="radio" name="recording-source" checked={source === 'url'} onChange={() => setSource('url')} /> a URL
        </label>
      </fieldset>
      <div class="row">
        {source === 'file' ? (
          <>
            <label for="recording-file">Video file</label>
            <input id="recording-file" type="file" accept="video/*,.mkv,.webm,.mp4,.mov" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
          </>
        ) : (
          <>
            <label for="recording-url">Video URL</label>
            <input id="recording-url" type="url" required pattern="https?://.+" placeholder="https://…/interview.mp4" size={40} value={url} onInput={(e) => setUrl(e.currentTarget.value)} aria-invalid={bad === 'url'} />
          </>
        )}
      </div>
      <div class="row">
        <label for="recording-name">Name</label>
        <input id="recording-name" maxLength={200} size={20} placeholder={source === 'file' ? 'the file name' : 'from the URL'} value={opts.name} onInput={set('name')} aria-invalid={bad === 'name'} />
        <label for="recording-fps">Frames per second</label>
        <input id="recording-fps" type="number" min={JOB_FPS.min} max={JOB_FPS.max} step="any" size={5} placeholder={String(JOB_FPS.default)} value={opts.fps} onInput={set('fps')} aria-invalid={bad === 'fps'} />
        <label for="recording-expected">Expected person</label>
        <select id="recording-expected" value={opts.expectedSubjectId} onChange={set('expectedSubjectId')} aria-invalid={bad === 'expectedSubjectId'}>
          <option value="">nobody in particular</option>
          {subjects.map((s) => (
            <option value={s.subjectId}>{s.name}</option>
          ))}
        </select>
        <button type="submit" disabled={busy || (source === 'file' && !file)}>
          Analyse
        </button>
        {phase.kind === 'uploading' && (
          <button type="button" class="secondary" onClick={() => abort.current?.abort()}>
            Cancel upload
          </button>
        )}
      </div>
      {phase.kind === 'uploading' && <UploadBar progress={phase.progress} />}
      <p role="status" aria-live="polite" class="recording-status">
        {phase.kind === 'uploading' && 'Uploading the video…'}
        {phase.kind === 'sending' && 'Asking the gateway to fetch the video…'}
      </p>
      {phase.kind === 'error' && (
        <p class="error" role="alert">
          {errorText(phase.error)}
        </p>
      )}
    </form>
  );
}

function UploadBar({ progress }: { progress: UploadProgress }) {
  const pct = progress.total ? Math.round((100 * progress.loaded) / progress.total) : 0;
  return (
    <div class="recording-progress">
      <label for="recording-upload-progress">Upload</label>
      <progress id="recording-upload-progress" max={100} value={pct} />
      <span>
        {pct}% of {progress.total ? formatBytes(progress.total) : 'the file'}
      </span>
    </div>
  );
}
