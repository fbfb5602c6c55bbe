// Node-side helpers for test/integration/web-live.test.ts: the built web app served by the
// gateway, driven in real Chromium (playwright-core) with a fake camera.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { apiCall, FIXTURES, ROOT, TEST_ADMIN_KEY } from '@lookout/testkit';

/** Builds web/dist unless it is newer than every source of the web app (npm test's pretest builds it). */
export function ensureWebBuilt(): void {
  const dist = path.join(ROOT, 'web/dist/index.html');
  const newest = (dir: string): number =>
    Math.max(0, ...fs.readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).mtimeMs)));
  const sources = Math.max(newest(path.join(ROOT, 'web/src')), newest(path.join(ROOT, 'packages/contracts/src')));
  if (fs.existsSync(dist) && fs.statSync(dist).mtimeMs >= sources) return;
  execFileSync('npm', ['run', '-s', 'build', '-w', 'web'], { cwd: ROOT, stdio: 'pipe' });
}

/** A browser context at laptop size; `admin` puts the admin key where the app keeps it. */
export async function newContext(browser: Browser, opts: { admin?: boolean } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  if (opts.admin) await context.addInitScript((key) => localStorage.setItem('lookout.adminKey', key), TEST_ADMIN_KEY);
  return context;
}

/** Collects the page's console errors and uncaught exceptions (asserted empty by tests). */
export function watchErrors(page: Page, into: string[]): void {
  page.on('pageerror', (err) => into.push(`pageerror: ${err.message}`));
  // The app ships no favicon; Chromium's request for one is not the app's error.
  page.on('console', (m) => m.type() === 'error' && !m.location().url.endsWith('/favicon.ico') && into.push(`console: ${m.text()} (${m.location().url})`));
}

/** Resolves once a subject called `name` is in the gallery (REST), polling. */
async function subjectListed(base: string, name: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const r = await apiCall<{ subjects: Array<{ name: string }> }>(base, 'GET', '/gallery/subjects?limit=1000');
    if (r.status === 200 && r.body.subjects.some((s) => s.name === name)) return;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`${name} never appeared in the gallery`);
}

/**
 * Enrolls `name` from one photo: through the Gallery page when it offers its enrollment
 * form (`data-testid="enroll-form"`: a name field, a file input, a submit button and a
 * success message), else through the REST API (`POST /gallery/subjects`, multipart).
 */
export async function enroll(context: BrowserContext, base: string, name: string, photo: string): Promise<'ui' | 'rest'> {
  const page = await context.newPage();
  await page.goto(`${base}/#/gallery`);
  const form = page.locator('[data-testid="enroll-form"]');
  const hasForm = await form
    .waitFor({ timeout: 3_000 })
    .then(() => true)
    .catch(() => false);
  if (hasForm) {
    await form.getByLabel(/name/i).first().fill(name);
    await form.locator('input[type=file]').first().setInputFiles(path.join(FIXTURES, photo));
    await form.locator('button[type=submit], input[type=submit]').first().click();
    await subjectListed(base, name, 15_000);
    await page.getByText(/enrol|added|created|saved|success/i).first().waitFor({ timeout: 5_000 });
  } else {
    const body = new FormData();
    body.set('name', name);
    body.append('images', new Blob([fs.readFileSync(path.join(FIXTURES, photo))], { type: 'image/jpeg' }), path.basename(photo));
    const r = await apiCall(base, 'POST', '/gallery/subjects', { body });
    if (r.status !== 201) throw new Error(`enrollment failed: ${r.status} ${r.text}`);
  }
  await page.close();
  return hasForm ? 'ui' : 'rest';
}

/** Resolves with how long `fn` took to become truthy in the page (polling), or throws. */
export async function timeUntil(page: Page, what: string, fn: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  const end = start + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return Date.now() - start;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export function artifact(name: string): string {
  const dir = path.join(ROOT, 'test-artifacts');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
