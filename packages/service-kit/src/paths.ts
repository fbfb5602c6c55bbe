import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory that holds packages/ and services/: the repository checkout, or /app in
 * the container images (same layout). This file is packages/service-kit/{src,dist}/paths.*
 * in both, and Node resolves the workspace symlink to it, so the answer does not depend on
 * how the service was started.
 */
export const INSTALL_ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');

/**
 * A configured path as an absolute one. Relative paths (the defaults `models`, `web/dist`)
 * are taken from INSTALL_ROOT, never from the working directory: a service started by
 * systemd, from another directory, or by `node /abs/path/services/x/dist/main.js` finds
 * the same files as `npm start` does.
 */
export function fromInstallRoot(p: string): string {
  return path.resolve(INSTALL_ROOT, p);
}
