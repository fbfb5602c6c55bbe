import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { enroll, newContext } from '@lookout/testkit';

/**
 * The web harness's enroll() against stand-in Gallery pages: it must go through the form
 * and fail when there is none or when the form reports an error (issue 14, item 7: it used
 * to fall back to the REST API, so the live web test passed without the UI).
 */

type Mode = 'no-form' | 'enrolls' | 'refuses';

/** The Gallery page in each mode; the form's parts are the app's (web/src/components/gallery-enroll-form.tsx). */
function page(mode: Mode): string {
  if (mode === 'no-form') return '<!doctype html><title>Gallery</title><h1>Gallery</h1><p>Nothing to enroll with here.</p>';
  const onSubmit =
    mode === 'enrolls'
      ? `const name = form.querySelector('#enroll-name').value;
         const file = form.querySelector('#enroll-photos').files[0];
         await fetch('/enrolled', { method: 'POST', body: JSON.stringify({ name, file: file && file.name, size: file && file.size }) });
         form.querySelector('[data-testid=enroll-result]').innerHTML = '<p>Enrolled <strong>' + name + '</strong> (x1): 1 of 1 photo used.</p>';`
      : `const p = document.createElement('p'); p.setAttribute('role', 'alert'); p.textContent = 'No photo has exactly one usable face'; form.append(p);`;
  return `<!doctype html><title>Gallery</title>
    <form data-testid="enroll-form"><h2>Enroll a person</h2>
      <label for="enroll-name">Name</label><input id="enroll-name">
      <label for="enroll-photos">Photos</label><input id="enroll-photos" type="file">
      <button type="submit">Enroll</button>
      <div role="status" data-testid="enroll-result"></div>
    </form>
    <script>
      const form = document.querySelector('form');
      form.addEventListener('submit', async (e) => { e.preventDefault(); ${onSubmit} });
    </script>`;
}

describe('web harness enroll()', () => {
  let browser: Browser;
  let server: http.Server;
  let base: string;
  let mode: Mode = 'no-form';
  const enrolled: Array<{ name: string; file: string; size: number }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.method === 'POST' && req.url === '/enrolled') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          enrolled.push(JSON.parse(body) as (typeof enrolled)[number]);
          res.writeHead(204).end();
        });
        return;
      }
      if (req.url?.endsWith('/gallery/subjects?limit=1000')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ subjects: enrolled.map((e) => ({ name: e.name })) }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end(page(mode));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  it('fails when the Gallery page has no enrollment form', async () => {
    mode = 'no-form';
    const context = await newContext(browser, { admin: true });
    await expect(enroll(context, base, 'Barack Obama', 'faces/identities/barack_obama/fr_obama.jpg', { formTimeoutMs: 1000 })).rejects.toThrow(/shows no enrollment form/);
    expect(enrolled).toEqual([]);
    await context.close();
  });

  it('fails when the form reports an error', async () => {
    mode = 'refuses';
    const context = await newContext(browser, { admin: true });
    await expect(enroll(context, base, 'Barack Obama', 'faces/identities/barack_obama/fr_obama.jpg')).rejects.toThrow(/refused to enroll Barack Obama: No photo has exactly one usable face/);
    expect(enrolled).toEqual([]);
    await context.close();
  });

  it('fills the name and the photo, submits, and waits for the result and the gallery', async () => {
    mode = 'enrolls';
    const context = await newContext(browser, { admin: true });
    await enroll(context, base, 'Barack Obama', 'faces/identities/barack_obama/fr_obama.jpg');
    expect(enrolled).toEqual([{ name: 'Barack Obama', file: 'fr_obama.jpg', size: expect.any(Number) }]);
    expect(enrolled[0]!.size).toBeGreaterThan(1000);
    await context.close();
  });
});
