/** Placeholder, replaced by the page's implementation. */
export function SessionsPage(_: { params: URLSearchParams }) {
  return <h1>Sessions</h1>;
}
