import { useState } from 'preact/hooks';
import { GalleryEnrollForm } from '../components/gallery-enroll-form';
import { GallerySubjectList } from '../components/gallery-subject-list';
import { GalleryZipUpload } from '../components/gallery-zip-upload';
import '../components/gallery-page.css';

/** The face gallery: enroll one person or a ZIP of many; list, rename and delete subjects. */
export function GalleryPage() {
  // Bumped after every enrollment so the list reloads.
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  return (
    <>
      <h1>Gallery</h1>
      <div class="gallery-layout">
        <div class="gallery-side">
          <GalleryEnrollForm onEnrolled={changed} />
          <GalleryZipUpload onDone={changed} />
        </div>
        <GallerySubjectList version={version} />
      </div>
    </>
  );
}
