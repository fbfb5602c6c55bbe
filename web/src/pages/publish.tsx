/** Placeholder, replaced by the page's implementation. */
export function PublishPage(_: { params: URLSearchParams }) {
  return <h1>Publish</h1>;
}
