import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES, ROOT } from '@lookout/testkit';

describe('npm run analyze (command line, no NATS)', () => {
  it('prints one JSON object per image, an error line for a bad file, and exits 1 when any failed', () => {
    const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-cli-')), 'not-an-image.jpg');
    fs.writeFileSync(bad, 'hello');
    const files = [path.join(FIXTURES, 'faces/group/fa_bbt4.jpg'), path.join(FIXTURES, 'faces/expressions/fa_happy.jpg'), bad];
    const r = spawnSync('npm', ['run', '-s', 'analyze', '--', ...files], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ANALYZERS: 'pose,expression' } });
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(r.status).toBe(1);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ file: files[0], width: expect.any(Number), height: expect.any(Number) });
    expect(lines[0].faces).toHaveLength(6);
    for (const f of lines[0].faces) {
      expect(f.box).toHaveLength(4);
      expect(Object.keys(f.pose).sort()).toEqual(['ageMs', 'lookingAtCamera', 'pitch', 'roll', 'yaw']);
      expect(f.eyes).toBeUndefined();
    }
    expect(lines[1].faces[0].expression.label).toBe('happy');
    expect(lines[2]).toEqual({ file: bad, error: { code: 'not_jpeg', message: expect.any(String) } });
    fs.rmSync(path.dirname(bad), { recursive: true });
  });

  it('reads relative file names from where npm was run, and finds its models from any directory', () => {
    // npm run moves to the repository root; the file is relative to the user's directory.
    const group = path.join(FIXTURES, 'faces/group');
    const viaNpm = spawnSync('npm', ['run', '-s', 'analyze', '--', 'fa_bbt4.jpg'], { cwd: group, encoding: 'utf8', env: { ...process.env, ANALYZERS: '' } });
    expect(viaNpm.status).toBe(0);
    expect(JSON.parse(viaNpm.stdout.trim())).toMatchObject({ file: 'fa_bbt4.jpg', faces: expect.any(Array) });
    // Started directly from elsewhere, MODELS_DIR's default is still the repository's models/.
    const direct = spawnSync(process.execPath, [path.join(ROOT, 'services/detector/dist/cli.js'), 'fa_bbt4.jpg'], { cwd: group, encoding: 'utf8', env: { ...process.env, ANALYZERS: '', npm_lifecycle_event: '' } });
    expect(direct.status).toBe(0);
    expect(JSON.parse(direct.stdout.trim()).faces).toHaveLength(6);
  }, 60_000);

  it('explains its usage without files', () => {
    const r = spawnSync('npm', ['run', '-s', 'analyze'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: npm run analyze');
  });
});
