/** Placeholder, replaced by the page's implementation. */
export function SettingsPage(_: { params: URLSearchParams }) {
  return <h1>Settings</h1>;
}
