import { createHmac } from 'node:crypto';
import { ConfigError } from '@lookout/service-kit';
import { TurnCredentials } from '../src/http/turn-credentials.js';

const base = { turnUrls: 'turn:127.0.0.1:3478?transport=udp, turn:127.0.0.1:3478?transport=tcp', turnSecret: 's3cret', turnSecretFile: undefined, turnTtlS: 600 };

describe('TurnCredentials (coturn REST scheme)', () => {
  it('gives no TURN without TURN_URLS, whatever the secret', () => {
    expect(TurnCredentials.fromConfig({ ...base, turnUrls: '' })).toBeUndefined();
    expect(TurnCredentials.fromConfig({ ...base, turnUrls: ' , ', turnSecret: '' })).toBeUndefined();
  });

  it('signs <expiry>:<peer> with HMAC-SHA1 of the secret, base64', () => {
    const turn = TurnCredentials.fromConfig(base)!;
    const now = 1_700_000_000_000;
    const [server, ...more] = turn.issue('alice', undefined, now);
    expect(more).toEqual([]);
    expect(server!.urls).toEqual(['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp']);
    expect(server!.username).toBe(`${now / 1000 + 600}:alice`);
    expect(server!.credential).toBe(createHmac('sha1', 's3cret').update(server!.username).digest('base64'));
  });

  it('never outlives the token it comes with', () => {
    const turn = TurnCredentials.fromConfig(base)!;
    const now = 1_700_000_000_000;
    expect(turn.issue('p', now + 30_500, now)[0]!.username).toBe(`${now / 1000 + 30}:p`);
    expect(turn.issue('p', now + 3_600_000, now)[0]!.username).toBe(`${now / 1000 + 600}:p`);
  });

  it('reads the secret from TURN_SECRET_FILE, and refuses bad settings', () => {
    const turn = TurnCredentials.fromConfig({ ...base, turnSecret: '', turnSecretFile: '/run/s' }, () => 'filesecret\n')!;
    const [s] = turn.issue('p', undefined, 0);
    expect(s!.credential).toBe(createHmac('sha1', 'filesecret').update(s!.username).digest('base64'));
    expect(() => TurnCredentials.fromConfig({ ...base, turnSecret: '' })).toThrow(ConfigError);
    expect(() => TurnCredentials.fromConfig({ ...base, turnSecretFile: '/run/s' }, () => 'x')).toThrow(/not both/);
    expect(() => TurnCredentials.fromConfig({ ...base, turnSecret: '', turnSecretFile: '/run/s' }, () => '  \n')).toThrow(/empty/);
    expect(() =>
      TurnCredentials.fromConfig({ ...base, turnSecret: '', turnSecretFile: '/nope' }, () => {
        throw Object.assign(new Error('x'), { code: 'ENOENT' });
      }),
    ).toThrow(/ENOENT/);
    expect(() => TurnCredentials.fromConfig({ ...base, turnUrls: 'stun:x:3478' })).toThrow(/TURN_URLS/);
  });
});
