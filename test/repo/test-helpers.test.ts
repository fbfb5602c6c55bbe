import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '@lookout/testkit';

/**
 * Test helpers live in one place, @lookout/testkit (issue 14, item 6): under test/ there
 * are only tests, their fixtures and jest's own plumbing (test/jest/), and no test reaches
 * into another folder's files for a helper.
 */
describe('test helpers live in @lookout/testkit', () => {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && fs.existsSync(path.join(ROOT, f)));

  it('test/ holds tests, fixtures and jest plumbing only', () => {
    const others = tracked.filter((f) => f.startsWith('test/') && !f.startsWith('test/fixtures/') && !f.startsWith('test/jest/') && !f.endsWith('.test.ts'));
    expect(others).toEqual([]);
  });

  it('no test imports a helper from test/ by a relative path', () => {
    const offenders: string[] = [];
    for (const file of tracked.filter((f) => /\.test\.ts$/.test(f))) {
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/from '(\.{1,2}\/[^']*)'/g)) {
        const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), m[1]!));
        if (target.startsWith('test/')) offenders.push(`${file}: ${m[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
