import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { isId, LookoutError, ROOM_ROLES, type RoomRole, type RoomTokenClaims } from '@lookout/contracts';

/** Who is calling: an admin API key, or a room token for one room. */
export type Principal = { kind: 'admin'; name: string } | { kind: 'room'; claims: RoomTokenClaims };

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    /** Why the credential was refused; thrown by routes that need one. */
    authError?: Error;
  }
}

const b64 = (s: Buffer | string) => Buffer.from(s).toString('base64url');
const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/**
 * Room tokens are compact JWTs (HS256) signed with TOKEN_SECRET: short-lived, for one room
 * and one role. Verification is stateless, so any gateway behind a load balancer accepts
 * a token another one issued.
 */
export class RoomTokens {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = secret ? Buffer.from(secret) : randomBytes(32);
  }

  sign(claims: RoomTokenClaims): string {
    const body = `${HEADER}.${b64(JSON.stringify(claims))}`;
    return `${body}.${b64(createHmac('sha256', this.key).update(body).digest())}`;
  }

  /** The claims, or a LookoutError saying why the token is refused. */
  verify(token: string, nowMs = Date.now()): RoomTokenClaims {
    const [header, payload, sig] = token.split('.');
    if (!header || !payload || !sig || header !== HEADER) throw new LookoutError('invalid_token', 'token: malformed');
    const expected = createHmac('sha256', this.key).update(`${header}.${payload}`).digest();
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new LookoutError('invalid_token', 'token: bad signature');
    let claims: RoomTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as RoomTokenClaims;
    } catch {
      throw new LookoutError('invalid_token', 'token: malformed');
    }
    if (!isId(claims.room) || !isId(claims.peer) || !ROOM_ROLES.includes(claims.role) || typeof claims.exp !== 'number') throw new LookoutError('invalid_token', 'token: malformed claims');
    if (claims.exp * 1000 <= nowMs) throw new LookoutError('token_expired', 'token: expired');
    return claims;
  }
}

/** Admin API keys from config (`name:key,name:key`), compared in constant time. */
export class ApiKeys {
  private readonly keys: Array<{ name: string; key: Buffer }>;

  constructor(spec: string) {
    this.keys = spec
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((pair) => {
        const i = pair.indexOf(':');
        const [name, key] = i > 0 ? [pair.slice(0, i), pair.slice(i + 1)] : ['admin', pair];
        if (key.length < 16) throw new Error(`API_KEYS: the key of "${name}" is shorter than 16 characters`);
        return { name, key: Buffer.from(key) };
      });
  }

  /** The key's name, or undefined. */
  lookup(candidate: string): string | undefined {
    const c = Buffer.from(candidate);
    return this.keys.find((k) => k.key.length === c.length && timingSafeEqual(k.key, c))?.name;
  }
}

/** `Authorization: Bearer <key or token>`, `X-Api-Key: <key>`, or `?token=` (for links and WebSockets). */
export function credentialOf(headers: Record<string, string | string[] | undefined>, query: URLSearchParams): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  const key = headers['x-api-key'];
  if (typeof key === 'string' && key) return key;
  return query.get('token') ?? undefined;
}

export class Authenticator {
  constructor(
    private readonly keys: ApiKeys,
    readonly tokens: RoomTokens,
  ) {}

  /** Resolves a credential; throws `unauthorized`, `invalid_token` or `token_expired`. */
  principal(credential: string | undefined): Principal {
    if (!credential) throw new LookoutError('unauthorized', 'authorization: an API key or a room token is required');
    const name = this.keys.lookup(credential);
    if (name) return { kind: 'admin', name };
    if (credential.split('.').length !== 3) throw new LookoutError('unauthorized', 'authorization: unknown API key');
    return { kind: 'room', claims: this.tokens.verify(credential) };
  }

  /**
   * Middleware: resolves the credential if there is one. Refusal is deferred to the route
   * (api-router's access check), so an unknown route is a 404 whoever asks.
   */
  authenticate() {
    return (req: Request, _res: Response, next: NextFunction) => {
      try {
        req.principal = this.principal(credentialOf(req.headers, new URL(req.originalUrl, 'http://x').searchParams));
      } catch (err) {
        req.authError = err as Error;
      }
      next();
    };
  }
}

/** Throws `forbidden` unless the caller is an admin. */
export function requireAdmin(p: Principal | undefined): void {
  if (p?.kind !== 'admin') throw new LookoutError('forbidden', 'authorization: this call needs an admin API key');
}

/** Throws `forbidden` unless the caller is an admin or holds a token for `room` with one of `roles`. */
export function requireRoom(p: Principal | undefined, room: string, roles: readonly RoomRole[] = ROOM_ROLES): void {
  if (p?.kind === 'admin') return;
  if (p?.kind === 'room' && p.claims.room === room && roles.includes(p.claims.role)) return;
  throw new LookoutError('forbidden', p?.kind === 'room' && p.claims.room !== room ? `token: not valid for room ${room}` : 'token: role not allowed here');
}
