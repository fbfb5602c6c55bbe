#!/usr/bin/env node
// Writes docs/configuration.md from the services' config schemas (built), so the docs
// cannot drift from the code. `--check` exits 1 when the file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { describeConfig } = await import(path.join(root, 'packages/service-kit/dist/index.js'));
const services = [
  ['sfu', 'SfuConfig'],
  ['detector', 'DetectorConfig'],
  ['reid', 'ReidConfig'],
  ['gateway', 'GatewayConfig'],
];

let out = `# Configuration

Every service reads its configuration from environment variables, validated at start-up: a
bad value stops the service with a message naming the variable. Generated from the schemas
in \`services/*/src/config.ts\` by \`node scripts/config-docs.mjs\`; a test fails when this
file is out of date.
`;
for (const [name, exported] of services) {
  const mod = await import(path.join(root, 'services', name, 'dist', 'config.js'));
  out += `\n## ${name}\n\n${describeConfig(mod[exported])}\n`;
}

const file = path.join(root, 'docs', 'configuration.md');
if (process.argv.includes('--check')) {
  const current = readFileSync(file, 'utf8');
  if (current !== out) {
    console.error('docs/configuration.md is out of date: run `node scripts/config-docs.mjs`');
    process.exit(1);
  }
} else {
  writeFileSync(file, out);
  console.log(`wrote ${path.relative(root, file)}`);
}
