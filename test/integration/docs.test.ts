import { spawnSync } from 'node:child_process';
import { ROOT } from '@lookout/testkit';

describe('docs', () => {
  it('docs/configuration.md matches the config schemas', () => {
    const r = spawnSync(process.execPath, ['scripts/config-docs.mjs', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('docs/contracts.md lists the operations, stores and error codes of the contracts tables', () => {
    const r = spawnSync(process.execPath, ['scripts/contracts-docs.mjs', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
