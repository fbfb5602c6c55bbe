import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { RefObject } from 'preact';
import { LookoutError, type ImageResult, type SubjectSummary } from '@lookout/contracts';
import { errorField, errorText, formatBytes, uploadForm } from '../lib/upload';
import { GalleryCamera } from './gallery-camera';
import { GalleryImageResults } from './gallery-image-results';

interface Outcome {
  subject?: SubjectSummary;
  images: ImageResult[];
  names: string[];
}

/** The images a failed enrollment still reports (no_usable_image carries them in `details.images`). */
function imagesOf(err: unknown): ImageResult[] {
  const images = err instanceof LookoutError && err.code === 'no_usable_image' ? err.details?.images : undefined;
  return Array.isArray(images) ? (images as ImageResult[]) : [];
}

type Fields = { name: string; subjectId: string; metadata: string };
const EMPTY: Fields = { name: '', subjectId: '', metadata: '' };

function enrollForm(f: Fields, photos: File[]): FormData {
  const form = new FormData();
  form.append('name', f.name.trim());
  if (f.subjectId.trim()) form.append('subjectId', f.subjectId.trim());
  if (f.metadata.trim()) form.append('metadata', f.metadata.trim());
  for (const p of photos) form.append('images', p, p.name);
  return form;
}

/** Enroll one person from uploaded photos and/or webcam snapshots. */
export function GalleryEnrollForm({ onEnrolled }: { onEnrolled: () => void }) {
  const [fields, setFields] = useState<Fields>(EMPTY);
  const [files, setFiles] = useState<File[]>([]);
  const [snaps, setSnaps] = useState<File[]>([]);
  const [busy, setBusy] = useState<number | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [error, setError] = useState<unknown>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const all = [...files, ...snaps];

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(0);
    setError(null);
    setOutcome(null);
    const names = all.map((f) => f.name);
    try {
      const r = await uploadForm<{ subject: SubjectSummary; images: ImageResult[] }>('/gallery/subjects', enrollForm(fields, all), { onProgress: (p) => p.total && setBusy(p.loaded / p.total) });
      setOutcome({ ...r, names });
      setFields(EMPTY);
      setFiles([]);
      setSnaps([]);
      if (fileInput.current) fileInput.current.value = '';
      onEnrolled();
    } catch (err) {
      setError(err);
      setOutcome({ images: imagesOf(err), names });
    } finally {
      setBusy(null);
    }
  }

  return (
    <form class="card gallery-enroll" data-testid="enroll-form" onSubmit={(e) => void submit(e)} aria-labelledby="enroll-title">
      <h2 id="enroll-title">Enroll a person</h2>
      <EnrollFields fields={fields} onFields={setFields} onFiles={setFiles} fileInput={fileInput} bad={errorField(error)} />
      <GalleryCamera onSnapshot={(f) => setSnaps((s) => [...s, f])} />
      <SnapshotList snaps={snaps} onRemove={(f) => setSnaps((s) => s.filter((x) => x !== f))} />
      <div class="row">
        <button type="submit" disabled={busy !== null || all.length === 0 || !fields.name.trim()}>
          Enroll
        </button>
        <span class="muted">{all.length > 0 ? `${all.length} photo${all.length > 1 ? 's' : ''}, ${formatBytes(all.reduce((s, f) => s + f.size, 0))}` : 'No photo chosen'}</span>
        {busy !== null && <progress max={1} value={busy} aria-label="Upload progress" />}
      </div>
      <EnrollOutcome outcome={outcome} error={error} />
    </form>
  );
}

interface FieldsProps {
  fields: Fields;
  onFields: (f: Fields) => void;
  onFiles: (files: File[]) => void;
  fileInput: RefObject<HTMLInputElement | null>;
  /** The field the API complained about. */
  bad: string | undefined;
}

function EnrollFields({ fields, onFields, onFiles, fileInput, bad }: FieldsProps) {
  const set = (k: keyof Fields) => (e: { currentTarget: HTMLInputElement }) => onFields({ ...fields, [k]: e.currentTarget.value });
  return (
    <div class="gallery-fields">
      <label for="enroll-name">Name</label>
      <input id="enroll-name" value={fields.name} onInput={set('name')} required maxLength={200} aria-invalid={bad === 'name'} autocomplete="off" />
      <label for="enroll-id">
        Subject ID <span class="muted">(optional)</span>
      </label>
      <input id="enroll-id" value={fields.subjectId} onInput={set('subjectId')} pattern="[A-Za-z0-9_\-]{1,64}" aria-invalid={bad === 'subjectId'} aria-describedby="enroll-id-hint" />
      <span id="enroll-id-hint" class="muted gallery-hint">
        Letters, digits, _ and -; generated when empty.
      </span>
      <label for="enroll-meta">
        Metadata <span class="muted">(JSON, optional)</span>
      </label>
      <input id="enroll-meta" value={fields.metadata} onInput={set('metadata')} placeholder='{"team": "blue"}' aria-invalid={bad === 'metadata'} />
      <label for="enroll-photos">Photos</label>
      <input
        id="enroll-photos"
        ref={fileInput}
        type="file"
        accept="image/jpeg,image/png"
        multiple
        aria-invalid={!!bad?.startsWith('images')}
        aria-describedby="enroll-photos-hint"
        onChange={(e) => onFiles([...(e.currentTarget.files ?? [])])}
      />
      <span id="enroll-photos-hint" class="muted gallery-hint">
        JPEG or PNG, one face each, up to 20 photos.
      </span>
    </div>
  );
}

/** Thumbnails of the camera snapshots waiting to be uploaded, each removable. */
function SnapshotList({ snaps, onRemove }: { snaps: File[]; onRemove: (f: File) => void }) {
  const thumbs = useMemo(() => snaps.map((f) => URL.createObjectURL(f)), [snaps]);
  useEffect(() => () => thumbs.forEach((u) => URL.revokeObjectURL(u)), [thumbs]);
  if (snaps.length === 0) return null;
  return (
    <ul class="gallery-snaps" aria-label="Camera snapshots">
      {snaps.map((f, i) => (
        <li key={f.name}>
          <img src={thumbs[i]} alt={`Snapshot ${f.name}`} />
          <button type="button" class="link" aria-label={`Remove ${f.name}`} onClick={() => onRemove(f)}>
            Remove
          </button>
        </li>
      ))}
    </ul>
  );
}

/** The enrollment's result, announced: who was enrolled, or the error, and a verdict per photo. */
function EnrollOutcome({ outcome, error }: { outcome: Outcome | null; error: unknown }) {
  const used = outcome?.images.filter((i) => i.ok).length ?? 0;
  // The status region is always there (regions added with their content are often not read).
  return (
    <>
      {error !== null && (
        <p class="error" role="alert">
          {errorText(error)}
        </p>
      )}
      <div role="status" data-testid="enroll-result">
        {outcome?.subject && (
          <p class="gallery-success">
            Enrolled <strong>{outcome.subject.name}</strong> ({outcome.subject.subjectId}): {used} of {outcome.images.length} photo{outcome.images.length > 1 ? 's' : ''} used.
          </p>
        )}
        {outcome && <GalleryImageResults images={outcome.images} names={outcome.names} />}
      </div>
    </>
  );
}
