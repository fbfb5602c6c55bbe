// Placeholder build: copies the static page into dist/. The web issue replaces this with Vite.
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
rmSync(path.join(here, 'dist'), { recursive: true, force: true });
mkdirSync(path.join(here, 'dist'), { recursive: true });
cpSync(path.join(here, 'public'), path.join(here, 'dist'), { recursive: true });
