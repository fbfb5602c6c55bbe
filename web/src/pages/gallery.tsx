/** Placeholder, replaced by the page's implementation. */
export function GalleryPage() {
  return <h1>Gallery</h1>;
}
