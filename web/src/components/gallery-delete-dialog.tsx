import { useEffect, useRef } from 'preact/hooks';
import type { SubjectSummary } from '@lookout/contracts';

/**
 * Confirmation before deleting a subject: a modal <dialog>, so focus is trapped, Escape
 * cancels and the browser restores focus; "Cancel" has the focus first (the safe choice).
 */
export function GalleryDeleteDialog({ subject, onConfirm, onCancel }: { subject: SubjectSummary; onConfirm: () => void; onCancel: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const d = dialog.current!;
    if (!d.open) d.showModal();
    cancel.current?.focus();
    return () => d.open && d.close();
  }, []);
  return (
    <dialog ref={dialog} class="gallery-dialog" aria-labelledby="delete-title" aria-describedby="delete-desc" onCancel={(e) => (e.preventDefault(), onCancel())} data-testid="delete-dialog">
      <h2 id="delete-title">Delete {subject.name}?</h2>
      <p id="delete-desc">
        This removes the subject <code>{subject.subjectId}</code> and its {subject.embeddings} face embedding{subject.embeddings === 1 ? '' : 's'} from the gallery. It cannot be undone.
      </p>
      <div class="row">
        <button type="button" ref={cancel} class="secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={onConfirm}>
          Delete
        </button>
      </div>
    </dialog>
  );
}
