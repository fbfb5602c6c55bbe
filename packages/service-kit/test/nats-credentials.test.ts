import { ConfigError } from '../src/config.js';
import { natsCredentials } from '../src/nats-credentials.js';

describe('NATS credentials', () => {
  const files: Record<string, string> = { '/run/secrets/gateway': 's3cret-from-a-file\n', '/run/secrets/empty': ' \n' };
  const read = (f: string) => {
    if (!(f in files)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return files[f]!;
  };

  it('none without a user; user and password from NATS_PASSWORD or from NATS_PASSWORD_FILE (trimmed)', () => {
    expect(natsCredentials({}, read)).toBeUndefined();
    expect(natsCredentials({ natsUser: 'gateway', natsPassword: 'pw' }, read)).toEqual({ user: 'gateway', pass: 'pw' });
    expect(natsCredentials({ natsUser: 'gateway', natsPasswordFile: '/run/secrets/gateway' }, read)).toEqual({ user: 'gateway', pass: 's3cret-from-a-file' });
  });

  it('refuses half a configuration, both password forms, an unreadable or empty file, naming the variable', () => {
    const refusal = (c: Parameters<typeof natsCredentials>[0]) => {
      try {
        natsCredentials(c, read);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).message;
      }
      return 'accepted';
    };
    expect(refusal({ natsUser: 'gateway' })).toMatch(/NATS_PASSWORD: .*go together/);
    expect(refusal({ natsPassword: 'pw' })).toMatch(/NATS_USER: /);
    expect(refusal({ natsPasswordFile: '/run/secrets/gateway' })).toMatch(/NATS_USER: /);
    expect(refusal({ natsUser: 'gateway', natsPassword: 'pw', natsPasswordFile: '/run/secrets/gateway' })).toMatch(/NATS_PASSWORD_FILE: .*not both/);
    expect(refusal({ natsUser: 'gateway', natsPasswordFile: '/run/secrets/missing' })).toMatch(/NATS_PASSWORD_FILE: cannot read \/run\/secrets\/missing \(ENOENT\)/);
    expect(refusal({ natsUser: 'gateway', natsPasswordFile: '/run/secrets/empty' })).toMatch(/NATS_PASSWORD_FILE: .*empty/);
  });
});
