import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES, ROOT } from '@lookout/testkit';

/**
 * A user who clones the project has nothing beside it: no file of the project may read
 * a sibling checkout (the `shared` folder next to it, where test data once came from), and
 * the data the tests use must be in the repository with its provenance.
 */
describe('the repository is self-contained', () => {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && fs.existsSync(path.join(ROOT, f)));

  it('no source, test, script, benchmark or doc refers to the sibling shared folder', () => {
    const offenders: string[] = [];
    // Spelled in pieces so that this file does not match itself.
    const sibling = ['..', 'shared'].join('/');
    const oldFixtures = ['shared', 'fixtures'].join('/');
    const pattern = new RegExp(`${sibling.replaceAll('.', '\\.')}\\b|\\b${oldFixtures}\\b`);
    for (const file of tracked) {
      if (file.startsWith('test/fixtures/') && !file.endsWith('.md')) continue;
      if (file === 'package-lock.json') continue;
      const text = fs.readFileSync(path.join(ROOT, file));
      if (text.includes(0)) continue; // binary
      text
        .toString('utf8')
        .split('\n')
        .forEach((line, i) => pattern.test(line) && offenders.push(`${file}:${i + 1}: ${line.trim()}`));
    }
    expect(offenders).toEqual([]);
  });

  it('the fixtures are tracked by git, with their sources and licences', () => {
    expect(path.relative(ROOT, FIXTURES)).toBe(path.join('test', 'fixtures'));
    const fixtures = tracked.filter((f) => f.startsWith('test/fixtures/'));
    for (const needed of ['README.md', 'faces/README.md', 'faces/manifest.json', 'video/two-people-sequential-640x480-15fps.webm', 'faces/group/fa_bbt4.jpg']) {
      expect(fixtures).toContain(`test/fixtures/${needed}`);
    }
    // Every image the manifest describes is here (the tests look files up through it).
    const manifest = fs.readFileSync(path.join(FIXTURES, 'faces/manifest.json'), 'utf8');
    const listed = [...manifest.matchAll(/"file":\s*"([^"]+)"/g)].map((m) => `test/fixtures/faces/${m[1]}`);
    expect(listed.length).toBeGreaterThan(100);
    expect(listed.filter((f) => !fixtures.includes(f))).toEqual([]);
    expect(fs.readFileSync(path.join(FIXTURES, 'README.md'), 'utf8')).toMatch(/MIT/);
  });
});
