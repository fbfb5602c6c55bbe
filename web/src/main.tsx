import { render } from 'preact';
import { useState } from 'preact/hooks';
import { adminKey, setAdminKey } from './lib/auth';
import { href, useRoute, type Route } from './lib/route';
import { DashboardPage } from './pages/dashboard';
import { GalleryPage } from './pages/gallery';
import { PublishPage } from './pages/publish';
import { SessionsPage } from './pages/sessions';
import { SettingsPage } from './pages/settings';
import 'uplot/dist/uPlot.min.css';
import './styles.css';

const PAGES: Record<string, { title: string; view: (r: Route) => preact.JSX.Element }> = {
  dashboard: { title: 'Room dashboard', view: (r) => <DashboardPage params={r.params} /> },
  publish: { title: 'Publish', view: (r) => <PublishPage params={r.params} /> },
  gallery: { title: 'Gallery', view: () => <GalleryPage /> },
  sessions: { title: 'Sessions', view: (r) => <SessionsPage params={r.params} /> },
  settings: { title: 'Settings', view: (r) => <SettingsPage params={r.params} /> },
};

/** Header sign-in; `onChange` remounts the page so it reloads with the new credential. */
function SignIn({ onChange }: { onChange: () => void }) {
  const [key, setKey] = useState(adminKey());
  const [draft, setDraft] = useState('');
  if (key) {
    return (
      <button type="button" class="link" onClick={() => (setAdminKey(null), setKey(null), onChange())}>
        Sign out
      </button>
    );
  }
  return (
    <form
      class="signin"
      onSubmit={(e) => {
        e.preventDefault();
        setAdminKey(draft.trim());
        setKey(draft.trim());
        onChange();
      }}
    >
      <label for="admin-key">Admin key</label>
      <input
        id="admin-key"
        type="password"
        autocomplete="off"
        aria-describedby="admin-key-hint"
        value={draft}
        onInput={(e) => setDraft(e.currentTarget.value)}
        required
      />
      <button type="submit">Sign in</button>
      <small id="admin-key-hint" class="muted">
        This tab only: closing it signs you out
      </small>
    </form>
  );
}

function App() {
  const route = useRoute();
  const [signIns, setSignIns] = useState(0);
  const page = PAGES[route.page] ?? PAGES.dashboard!;
  document.title = `${page.title} · Lookout`;
  return (
    <>
      <header class="top">
        <a class="brand" href={href('dashboard')}>
          Lookout
        </a>
        <nav aria-label="Main">
          {Object.entries(PAGES).map(([id, p]) => (
            <a href={href(id, { room: route.params.get('room') ?? undefined })} aria-current={id === route.page ? 'page' : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
        <SignIn onChange={() => setSignIns((n) => n + 1)} />
      </header>
      <main id="main" key={signIns}>
        {page.view(route)}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
