import { useEffect, useRef, useState } from 'preact/hooks';
import type { SubjectSummary } from '@lookout/contracts';
import { api } from '../lib/api';
import { errorText } from '../lib/upload';
import { GalleryDeleteDialog } from './gallery-delete-dialog';

const PAGE = 50;
const when = (ms: number) => new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
type List = { subjects: SubjectSummary[]; total: number; offset: number; limit: number };

/** The gallery's subjects, a page at a time, with rename (inline) and delete (confirmed). */
export function GallerySubjectList({ version }: { version: number }) {
  const [offset, setOffset] = useState(0);
  const [list, setList] = useState<List | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<SubjectSummary | null>(null);
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    api<List>(`/gallery/subjects?offset=${offset}&limit=${PAGE}`)
      .then((l) => live && (setList(l), setError(null)))
      .catch((e: unknown) => live && setError(e));
    return () => void (live = false);
  }, [offset, version, tick]);

  /** Runs one change; true when it worked (the list is then reloaded). */
  async function act(what: () => Promise<unknown>, done: string): Promise<boolean> {
    setError(null);
    try {
      await what();
      setStatus(done);
      setTick((t) => t + 1);
      return true;
    } catch (e) {
      setError(e);
      return false;
    }
  }

  const rename = (s: SubjectSummary, name: string) =>
    act(() => api(`/gallery/subjects/${s.subjectId}`, { method: 'PATCH', json: { name } }), `Renamed ${s.name} to ${name}.`).then((ok) => ok && setEditing(null));
  const remove = (s: SubjectSummary) => (setDeleting(null), act(() => api(`/gallery/subjects/${s.subjectId}`, { method: 'DELETE' }), `Deleted ${s.name}.`));

  return (
    <section class="card gallery-subjects" aria-labelledby="subjects-title">
      <div class="row gallery-subjects-head">
        <h2 id="subjects-title">Subjects</h2>
        <span class="muted">{list ? `${list.total} in the gallery` : 'Loading…'}</span>
        <button type="button" class="secondary" onClick={() => setTick((t) => t + 1)}>
          Refresh
        </button>
      </div>
      <p aria-live="polite" role="status" class="gallery-status">
        {status}
      </p>
      {error !== null && (
        <p class="error" role="alert">
          {errorText(error)}
        </p>
      )}
      {list && list.subjects.length === 0 && <p class="muted">Nobody is enrolled yet.</p>}
      {list && list.subjects.length > 0 && (
        <SubjectTable subjects={list.subjects} editing={editing} onEdit={setEditing} onRename={(subject, n) => void rename(subject, n)} onDelete={setDeleting} />
      )}
      {list && list.total > PAGE && <Pager offset={offset} total={list.total} onOffset={setOffset} />}
      {deleting && <GalleryDeleteDialog subject={deleting} onConfirm={() => void remove(deleting)} onCancel={() => setDeleting(null)} />}
    </section>
  );
}

interface TableProps {
  subjects: SubjectSummary[];
  editing: string | null;
  onEdit: (subjectId: string | null) => void;
  onRename: (s: SubjectSummary, name: string) => void;
  onDelete: (s: SubjectSummary) => void;
}

function SubjectTable({ subjects, editing, onEdit, onRename, onDelete }: TableProps) {
  return (
    <div class="gallery-table-wrap">
      <table data-testid="subjects">
        <caption class="visually-hidden">Enrolled subjects</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">ID</th>
            <th scope="col">Embeddings</th>
            <th scope="col">Added</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {subjects.map((s) => (
            <tr key={s.subjectId}>
              <th scope="row">{editing === s.subjectId ? <RenameForm subject={s} onSave={(n) => onRename(s, n)} onCancel={() => onEdit(null)} /> : s.name}</th>
              <td class="gallery-file gallery-id">{s.subjectId}</td>
              <td>{s.embeddings}</td>
              <td class="gallery-when">{when(s.createdMs)}</td>
              <td class="gallery-actions">
                <button type="button" class="secondary" aria-label={`Rename ${s.name}`} onClick={() => onEdit(s.subjectId)} disabled={editing === s.subjectId}>
                  Rename
                </button>
                <button type="button" class="danger" aria-label={`Delete ${s.name}`} onClick={() => onDelete(s)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Pager({ offset, total, onOffset }: { offset: number; total: number; onOffset: (n: number) => void }) {
  return (
    <nav class="row" aria-label="Subject pages">
      <button type="button" class="secondary" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - PAGE))}>
        Previous
      </button>
      <span>
        {offset + 1}–{Math.min(offset + PAGE, total)} of {total}
      </span>
      <button type="button" class="secondary" disabled={offset + PAGE >= total} onClick={() => onOffset(offset + PAGE)}>
        Next
      </button>
    </nav>
  );
}

/** Inline rename: Enter saves, Escape cancels; the input has the focus when it opens. */
function RenameForm({ subject, onSave, onCancel }: { subject: SubjectSummary; onSave: (name: string) => void; onCancel: () => void }) {
  const [name, setName] = useState(subject.name);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.select(), []);
  const id = `rename-${subject.subjectId}`;
  return (
    <form
      class="row gallery-rename"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim()) onSave(name.trim());
      }}
      onKeyDown={(e) => e.key === 'Escape' && onCancel()}
    >
      <label for={id} class="visually-hidden">
        New name for {subject.name}
      </label>
      <input id={id} ref={input} value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={200} />
      <button type="submit">Save</button>
      <button type="button" class="secondary" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}
