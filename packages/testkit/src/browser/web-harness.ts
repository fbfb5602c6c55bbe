// Node-side helpers for the web tests (test/integration/web-*.test.ts): the built web app served by the
// gateway, driven in real Chromium (playwright-core) with a fake camera.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { apiCall, TEST_ADMIN_KEY } from '../api-client.js';
import { FIXTURES, ROOT } from '../services.js';

/** Builds web/dist unless it is newer than every source of the web app (npm test's pretest builds it). */
export function ensureWebBuilt(): void {
  const dist = path.join(ROOT, 'web/dist/index.html');
  const newest = (dir: string): number =>
    Math.max(0, ...fs.readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).mtimeMs)));
  const sources = Math.max(newest(path.join(ROOT, 'web/src')), newest(path.join(ROOT, 'packages/contracts/src')));
  if (fs.existsSync(dist) && fs.statSync(dist).mtimeMs >= sources) return;
  execFileSync('npm', ['run', '-s', 'build', '-w', 'web'], { cwd: ROOT, stdio: 'pipe' });
}

/**
 * A browser context at laptop size; `admin` puts the admin key where the app keeps it:
 * the tab's sessionStorage (web/src/lib/auth.ts), set in every page the context opens, as
 * if the operator had signed in there.
 */
export async function newContext(browser: Browser, opts: { admin?: boolean } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  if (opts.admin) await context.addInitScript((key) => sessionStorage.setItem('lookout.adminKey', key), TEST_ADMIN_KEY);
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
 * Enrolls `name` from one photo through the Gallery page's enrollment form
 * (`data-testid="enroll-form"`: the Name field, the Photos input, the submit button, the
 * `enroll-result` status). Throws when the page has no such form, when the form reports an
 * error, or when the subject does not reach the gallery: there is no other way in, so a
 * test enrolling through here fails when the UI cannot enroll.
 */
export async function enroll(context: BrowserContext, base: string, name: string, photo: string, opts: { formTimeoutMs?: number } = {}): Promise<void> {
  const page = await context.newPage();
  try {
    await page.goto(`${base}/#/gallery`);
    const form = page.getByTestId('enroll-form');
    await form.waitFor({ timeout: opts.formTimeoutMs ?? 15_000 }).catch((err: Error) => {
      throw new Error(`the Gallery page shows no enrollment form (data-testid="enroll-form"): ${err.message}`);
    });
    await form.getByLabel('Name', { exact: true }).fill(name);
    await form.locator('input[type=file]').setInputFiles(path.join(FIXTURES, photo));
    await form.getByRole('button', { name: 'Enroll', exact: true }).click();
    const success = form.getByTestId('enroll-result').filter({ hasText: `Enrolled ${name}` });
    const failure = form.getByRole('alert');
    await success.or(failure).first().waitFor({ timeout: 60_000 });
    if (await failure.isVisible()) throw new Error(`the Gallery form refused to enroll ${name}: ${await failure.textContent()}`);
    await subjectListed(base, name, 15_000);
  } finally {
    await page.close();
  }
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
