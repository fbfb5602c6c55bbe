/** Placeholder, replaced by the page's implementation. */
export function DashboardPage(_: { params: URLSearchParams }) {
  return <h1>Dashboard</h1>;
}
