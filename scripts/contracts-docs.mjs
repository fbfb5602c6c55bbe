#!/usr/bin/env node
// Writes the generated sections of docs/contracts.md (operations, stores, error codes)
// from the contracts package (built), so the docs cannot drift from the tables the
// services run on. `--check` exits 1 when the file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const c = await import(path.join(root, 'packages/contracts/dist/index.js'));

const cell = (s) => String(s).replaceAll('|', '\\|').replaceAll('\n', ' ');
const row = (cells) => `| ${cells.map(cell).join(' | ')} |`;
const table = (head, rows) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
const ms = (v) => (v === 0 ? 'none' : v % 86_400_000 === 0 ? `${v / 86_400_000} d` : v % 3_600_000 === 0 ? `${v / 3_600_000} h` : v % 1000 === 0 ? `${v / 1000} s` : `${v} ms`);
const code = (s) => `\`${s}\``;

const operations = table(
  ['operation', 'subject', 'served by', 'called by', 'timeout', 'errors (besides ' + c.RPC_COMMON_ERRORS.join(', ') + ')', 'what it does'],
  c.RPC_OPS.map((op) => [
    code(op.name),
    code(op.addressing === 'instance' ? op.subject('INSTANCE').replace('INSTANCE', '<instance>') : op.subject()),
    op.addressing === 'instance' ? `${op.server} (the instance named)` : `${op.server} (queue group ${op.queue})`,
    op.callers.join(', '),
    ms(op.timeoutMs),
    op.errors.map(code).join(', ') || '—',
    op.description + (op.payload ? ` (request in the ${code(c.RPC_REQUEST_HEADER)} header, ${op.payload.toUpperCase()} as the body)` : ''),
  ]),
);

const stores = table(
  ['store', 'kind', 'owner', 'also used by', 'history', 'TTL / max age', 'tuned by', 'limits', 'holds'],
  c.STORES.map((s) => [
    code(s.name),
    s.kind === 'kv' ? 'KV bucket' : `stream (${s.subjects.map(code).join(', ')}; duplicates ${ms(s.duplicateWindowMs)})`,
    s.owner,
    s.users.join(', ') || '—',
    s.kind === 'kv' ? s.history : '—',
    ms(s.kind === 'kv' ? s.ttlMs : s.maxAgeMs),
    Object.values(s.tunedBy ?? {}).map(code).join(', ') || '—',
    [s.maxBytes === -1 ? 'no byte limit' : `${s.maxBytes} bytes`, s.kind === 'kv' && s.maxValueBytes !== -1 ? `values ≤ ${s.maxValueBytes} bytes` : ''].filter(Boolean).join(', '),
    s.description,
  ]),
);

const errors = table(['code', 'meaning'], Object.entries(c.ERROR_CODES).map(([k, v]) => [code(k), v]));

const sections = { operations, stores, errors };
const file = path.join(root, 'docs', 'contracts.md');
const current = readFileSync(file, 'utf8');
let out = current;
for (const [name, body] of Object.entries(sections)) {
  const re = new RegExp(`(<!-- generated:${name} -->)[\\s\\S]*?(<!-- /generated:${name} -->)`);
  if (!re.test(out)) {
    console.error(`docs/contracts.md has no <!-- generated:${name} --> … <!-- /generated:${name} --> section`);
    process.exit(2);
  }
  out = out.replace(re, (_m, open, close) => `${open}\n${body}\n${close}`);
}
if (process.argv.includes('--check')) {
  if (current !== out) {
    console.error('docs/contracts.md is out of date: run `node scripts/contracts-docs.mjs`');
    process.exit(1);
  }
} else {
  writeFileSync(file, out);
  console.log(`wrote ${path.relative(root, file)}`);
}
