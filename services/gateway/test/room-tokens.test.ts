import { createHmac, timingSafeEqual } from 'node:crypto';
import { LookoutError, type RoomTokenClaims } from '@lookout/contracts';
import { ApiKeys, Authenticator, credentialFrom, RoomTokens } from '../src/http/auth.js';

/**
 * The hand-rolled HS256 signer and verifier the gateway used before jose, kept here as the
 * reference: tokens already handed out (and the testkit's roomToken) must keep working,
 * and every token it refused must still be refused.
 */
const b64 = (s: Buffer | string) => Buffer.from(s).toString('base64url');
const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
function legacySign(secret: string, claims: RoomTokenClaims): string {
  const body = `${HEADER}.${b64(JSON.stringify(claims))}`;
  return `${body}.${b64(createHmac('sha256', secret).update(body).digest())}`;
}
function legacyVerify(secret: string, token: string, nowMs: number): RoomTokenClaims | string {
  const [header, payload, sig] = token.split('.');
  if (!header || !payload || !sig || header !== HEADER) return 'invalid_token';
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid_token';
  let claims: RoomTokenClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as RoomTokenClaims;
  } catch {
    return 'invalid_token';
  }
  if (typeof claims.room !== 'string' || typeof claims.exp !== 'number') return 'invalid_token';
  if (claims.exp * 1000 <= nowMs) return 'token_expired';
  return claims;
}

const SECRET = 'room-token-secret-0123456789abcdef';
const NOW = 1_700_000_000_000;
const claims: RoomTokenClaims = { room: 'exam', role: 'publisher', peer: 'alice', exp: NOW / 1000 + 600 };

/** What verify answers: the claims, or the error code. */
async function outcome(tokens: RoomTokens, token: string, nowMs = NOW): Promise<RoomTokenClaims | string> {
  try {
    return await tokens.verify(token, nowMs);
  } catch (err) {
    expect(err).toBeInstanceOf(LookoutError);
    return (err as LookoutError).code;
  }
}

/** A token with this header and payload, signed with `secret` by hand (HMAC over the JWS signing input). */
function forged(header: object, payload: object, secret = SECRET, alg: 'sha256' | 'sha512' = 'sha256'): string {
  const body = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  return `${body}.${b64(createHmac(alg, secret).update(body).digest())}`;
}

describe('room tokens (jose, HS256)', () => {
  const tokens = new RoomTokens(SECRET);

  it('signs exactly the bytes the hand-rolled signer produced, and each verifies the other', async () => {
    const signed = await tokens.sign(claims);
    expect(signed).toBe(legacySign(SECRET, claims));
    expect(legacyVerify(SECRET, signed, NOW)).toEqual(claims);
    expect(await outcome(tokens, legacySign(SECRET, claims))).toEqual(claims);
  });

  it('keeps room scoping, role and peer as signed', async () => {
    const viewer = await tokens.sign({ ...claims, role: 'viewer', room: 'other', peer: 'bob' });
    expect(await outcome(tokens, viewer)).toEqual({ ...claims, role: 'viewer', room: 'other', peer: 'bob' });
  });

  it('expires at exp, as before (a second before is fine, at exp it is expired)', async () => {
    const t = await tokens.sign(claims);
    expect(await outcome(tokens, t, claims.exp * 1000 - 1000)).toEqual(claims);
    expect(await outcome(tokens, t, claims.exp * 1000)).toBe('token_expired');
    expect(legacyVerify(SECRET, t, claims.exp * 1000)).toBe('token_expired');
    expect(await outcome(tokens, t, claims.exp * 1000 + 3_600_000)).toBe('token_expired');
  });

  it('refuses another secret, a tampered payload, header or signature, like the old verifier', async () => {
    const t = await tokens.sign(claims);
    const [h, p, s] = t.split('.') as [string, string, string];
    const tampered = {
      'another secret': legacySign('another-secret-0123456789abcdef', claims),
      'payload (room changed)': `${h}.${b64(JSON.stringify({ ...claims, room: 'hall' }))}.${s}`,
      'payload (role raised)': `${h}.${b64(JSON.stringify({ ...claims, role: 'admin' }))}.${s}`,
      'payload (exp extended)': `${h}.${b64(JSON.stringify({ ...claims, exp: claims.exp + 86_400 }))}.${s}`,
      'signature flipped': `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BA' : 'AA'}`,
      'signature cut': `${h}.${p}.${s.slice(0, 20)}`,
      'signature missing': `${h}.${p}.`,
      'header swapped': `${b64('{"typ":"JWT","alg":"HS256"}')}.${p}.${s}`,
      'not a JWT': 'a.b.c',
      empty: '..',
    };
    for (const [what, token] of Object.entries(tampered)) {
      expect({ what, jose: await outcome(tokens, token) }).toEqual({ what, jose: 'invalid_token' });
      expect({ what, legacy: legacyVerify(SECRET, token, NOW) }).toEqual({ what, legacy: 'invalid_token' });
    }
  });

  it('accepts HS256 only: alg none, HS512 and RS256 headers are refused even when "signed" with the secret', async () => {
    const none = `${b64(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64(JSON.stringify(claims))}.`;
    expect(await outcome(tokens, none)).toBe('invalid_token');
    expect(await outcome(tokens, forged({ alg: 'HS512', typ: 'JWT' }, claims, SECRET, 'sha512'))).toBe('invalid_token');
    expect(await outcome(tokens, forged({ alg: 'RS256', typ: 'JWT' }, claims))).toBe('invalid_token');
    await expect(tokens.verify(forged({ alg: 'HS512', typ: 'JWT' }, claims, SECRET, 'sha512'), NOW)).rejects.toThrow(/algorithm/);
  });

  it('refuses genuine signatures over claims Lookout did not issue (missing exp, bad room, unknown role, wrong typ)', async () => {
    const { exp: _exp, ...noExp } = claims;
    expect(await outcome(tokens, forged({ alg: 'HS256', typ: 'JWT' }, noExp))).toBe('invalid_token');
    expect(await outcome(tokens, forged({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: 'later' }))).toBe('invalid_token');
    expect(await outcome(tokens, forged({ alg: 'HS256', typ: 'JWT' }, { ...claims, room: 'no spaces allowed' }))).toBe('invalid_token');
    expect(await outcome(tokens, forged({ alg: 'HS256', typ: 'JWT' }, { ...claims, role: 'admin' }))).toBe('invalid_token');
    expect(await outcome(tokens, forged({ alg: 'HS256', typ: 'at+jwt' }, claims))).toBe('invalid_token');
    // Genuine and well-formed: accepted whatever else the header or payload carries.
    expect(await outcome(tokens, forged({ alg: 'HS256', typ: 'JWT' }, { ...claims, extra: 1 }))).toEqual(claims);
  });

  it('with no secret configured signs with a random key: another process (another RoomTokens) refuses its tokens', async () => {
    const a = new RoomTokens('');
    const b = new RoomTokens('');
    const t = await a.sign(claims);
    expect(await outcome(a, t)).toEqual(claims);
    expect(await outcome(b, t)).toBe('invalid_token');
  });
});

describe('credentials', () => {
  const auth = new Authenticator(new ApiKeys('ops:admin-key-0123456789'), new RoomTokens(SECRET));

  it('resolves admin keys and room tokens; unknown keys are unauthorized', async () => {
    expect(await auth.principal('admin-key-0123456789')).toEqual({ kind: 'admin', name: 'ops' });
    const t = await new RoomTokens(SECRET).sign({ ...claims, exp: Math.floor(Date.now() / 1000) + 60 });
    expect(await auth.principal(t)).toMatchObject({ kind: 'room', claims: { room: 'exam', role: 'publisher' } });
    await expect(auth.principal('admin-key-0123456780')).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(auth.principal(undefined)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('says where a credential came from: headers first, then ?token=', () => {
    const q = new URLSearchParams('token=from-url');
    expect(credentialFrom({ authorization: 'Bearer abc' }, q)).toEqual({ value: 'abc', inQuery: false });
    expect(credentialFrom({ 'x-api-key': 'k' }, q)).toEqual({ value: 'k', inQuery: false });
    expect(credentialFrom({}, q)).toEqual({ value: 'from-url', inQuery: true });
    expect(credentialFrom({}, new URLSearchParams())).toBeUndefined();
  });
});
