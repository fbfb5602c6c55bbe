import { spawnProcess, startNatsServer, startService, stopAllProcesses, ROOT, type NatsServer } from '@lookout/testkit';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

describe('services against a NATS server with auth on', () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer(['--user', 'lookout', '--pass', 's3cret']);
  });
  afterAll(async () => {
    await stopAllProcesses();
    await nats?.stop();
  });

  it('connects with NATS_USER and NATS_PASSWORD', async () => {
    const reid = await startService('reid', nats.url, { NATS_USER: 'lookout', NATS_PASSWORD: 's3cret' });
    expect((await reid.get('/readyz')).status).toBe(200);
    expect(await reid.stop()).toBe(0);
  });

  it('reads the password from NATS_PASSWORD_FILE (a mounted secret, as compose gives each service)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookout-nats-secret-'));
    const file = path.join(dir, 'reid');
    fs.writeFileSync(file, 's3cret\n', { mode: 0o400 });
    try {
      const reid = await startService('reid', nats.url, { NATS_USER: 'lookout', NATS_PASSWORD_FILE: file });
      expect((await reid.get('/readyz')).status).toBe(200);
      expect(await reid.stop()).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start with a wrong password, or with only one of the two', async () => {
    const wrong = spawnProcess('reid', process.execPath, [path.join(ROOT, 'services/reid/dist/main.js')], { NATS_URL: nats.url, HTTP_PORT: '0', NATS_USER: 'lookout', NATS_PASSWORD: 'nope' }, ROOT);
    expect((await wrong.exited).code).not.toBe(0);
    expect(wrong.output.join('\n')).toMatch(/Authorization Violation|AUTHORIZATION_VIOLATION|authentication/i);
    const half = spawnProcess('reid', process.execPath, [path.join(ROOT, 'services/reid/dist/main.js')], { NATS_URL: nats.url, HTTP_PORT: '0', NATS_USER: 'lookout' }, ROOT);
    expect((await half.exited).code).not.toBe(0);
    expect(half.output.join('\n')).toContain('NATS_PASSWORD');
  });
});
