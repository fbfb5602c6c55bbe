/** A readable, dependency-free HTML page of the OpenAPI document (no CDN: works offline). */
export function docsPage(doc: { info: { title: string; version: string }; paths: Record<string, Record<string, { summary: string; tags: string[]; 'x-access': string; requestBody?: unknown; responses: Record<string, unknown> }>> }): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const body = op.requestBody ? `<details><summary>request body</summary><pre>${esc(JSON.stringify(op.requestBody, null, 2))}</pre></details>` : '';
      const ok = Object.entries(op.responses).find(([code]) => code.startsWith('2'));
      const response = ok ? `<details><summary>response ${ok[0]}</summary><pre>${esc(JSON.stringify(ok[1], null, 2))}</pre></details>` : '';
      const html = `<section><h3><code class="m ${method}">${method.toUpperCase()}</code> <code>${esc(path)}</code></h3><p>${esc(op.summary)} <small>Access: ${esc(op['x-access'])}</small></p>${body}${response}</section>`;
      const tag = op.tags[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const sections = [...byTag].map(([tag, ops]) => `<h2 id="${esc(tag)}">${esc(tag)}</h2>${ops.join('\n')}`).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(doc.info.title)} API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}section{border-top:1px solid #ddd;padding:.5rem 0}
h3{font-size:1rem;margin:.3rem 0}.m{padding:0 .4rem;border-radius:3px;color:#fff}.get{background:#2b6cb0}.post{background:#2f855a}.put,.patch{background:#b7791f}.delete{background:#c53030}
pre{background:#f5f5f5;padding:.5rem;overflow:auto;font-size:12px}small{color:#555;margin-left:.5rem}</style></head>
<body><h1>${esc(doc.info.title)} API <small>${esc(doc.info.version)}</small></h1>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Authenticate with <code>Authorization: Bearer &lt;API key or room token&gt;</code>. Errors are <code>{"error":{"code","message","field"}}</code>.</p>
<nav>${[...byTag.keys()].map((t) => `<a href="#${esc(t)}">${esc(t)}</a>`).join(' · ')}</nav>
${sections}</body></html>`;
}
