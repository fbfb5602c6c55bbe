import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INSTALL_ROOT, fromInstallRoot } from '@lookout/service-kit';

describe('paths from the install root', () => {
  it('is the directory holding packages/ and services/', () => {
    expect(fs.existsSync(path.join(INSTALL_ROOT, 'packages', 'service-kit', 'package.json'))).toBe(true);
    expect(fs.existsSync(path.join(INSTALL_ROOT, 'models', 'manifest.json'))).toBe(true);
  });

  it('resolves relative paths from there whatever the working directory, and keeps absolute ones', () => {
    const cwd = process.cwd();
    try {
      process.chdir(os.tmpdir());
      expect(fromInstallRoot('models')).toBe(path.join(INSTALL_ROOT, 'models'));
      expect(fromInstallRoot('web/dist/')).toBe(path.join(INSTALL_ROOT, 'web', 'dist'));
      expect(fromInstallRoot('/srv/models')).toBe('/srv/models');
      expect(fromInstallRoot('../elsewhere')).toBe(path.join(path.dirname(INSTALL_ROOT), 'elsewhere'));
    } finally {
      process.chdir(cwd);
    }
  });
});
