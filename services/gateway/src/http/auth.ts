import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { errors as jose, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { isId, LookoutError, ROOM_ROLES, type RoomRole, type RoomTokenClaims } from '@lookout/contracts';
import { clientAddress, type ClientAddress } from './client-address.js';

/** Who is calling: an admin API key, or a room token for one room. */
export type Principal = { kind: 'admin'; name: string } | { kind: 'room'; claims: RoomTokenClaims };

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    /** Why the credential was refused; thrown by routes that need one. */
    authError?: Error;
    /** The (room token) credential came as `?token=`: only routes opened as links take it (api-router). */
    credentialInQuery?: boolean;
  }
}

/** The one header room tokens carry; `typ` is checked on the way in, the algorithm pinned. */
const HEADER = { alg: 'HS256', typ: 'JWT' } as const;

/** Why jose refused a token, in the words the API has always used. */
function refusal(err: unknown): LookoutError {
  if (err instanceof jose.JWTExpired) return new LookoutError('token_expired', 'token: expired');
  if (err instanceof jose.JWSSignatureVerificationFailed) return new LookoutError('invalid_token', 'token: bad signature');
  if (err instanceof jose.JOSEAlgNotAllowed) return new LookoutError('invalid_token', 'token: algorithm not allowed (HS256 only)');
  if (err instanceof jose.JWTClaimValidationFailed) return new LookoutError('invalid_token', 'token: malformed claims');
  return new LookoutError('invalid_token', 'token: malformed');
}

/**
 * Room tokens are compact JWTs (HS256) signed with TOKEN_SECRET: short-lived, for one room
 * and one role. Verification is stateless, so any gateway behind a load balancer accepts
 * a token another one issued. Signing and verifying are jose's (only HS256 is accepted,
 * whatever the token's header says); the claims are Lookout's own and checked here.
 */
export class RoomTokens {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = secret ? new Uint8Array(Buffer.from(secret)) : new Uint8Array(randomBytes(32));
  }

  /** A token carrying exactly `claims` (the same bytes the hand-rolled signer produced). */
  async sign(claims: RoomTokenClaims): Promise<string> {
    // Exactly these claims, in this order: the token is byte-for-byte what it was before jose.
    const payload: JWTPayload = { room: claims.room, role: claims.role, peer: claims.peer, exp: claims.exp };
    return new SignJWT(payload).setProtectedHeader(HEADER).sign(this.key);
  }

  /** The claims, or a LookoutError saying why the token is refused. */
  async verify(token: string, nowMs = Date.now()): Promise<RoomTokenClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: [HEADER.alg], typ: HEADER.typ, requiredClaims: ['exp'], currentDate: new Date(nowMs) }));
    } catch (err) {
      throw refusal(err);
    }
    const { room, role, peer, exp } = payload as Partial<Record<keyof RoomTokenClaims, unknown>>;
    if (!isId(room) || !isId(peer) || !ROOM_ROLES.includes(role as RoomRole) || typeof exp !== 'number') throw new LookoutError('invalid_token', 'token: malformed claims');
    return { room, role: role as RoomRole, peer, exp };
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

/** A credential and where it came from (the URL's `?token=` or a header). */
export interface Credential {
  value: string;
  inQuery: boolean;
}

/** `Authorization: Bearer <key or token>`, `X-Api-Key: <key>`, or `?token=` (for links and WebSockets). */
export function credentialFrom(headers: Record<string, string | string[] | undefined>, query: URLSearchParams): Credential | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return { value: auth.replace(/^Bearer\s+/i, '').trim(), inQuery: false };
  const key = headers['x-api-key'];
  if (typeof key === 'string' && key) return { value: key, inQuery: false };
  const token = query.get('token');
  return token === null ? undefined : { value: token, inQuery: true };
}

/** `credentialFrom`'s value alone (the WebSocket upgrade, where a browser can only use the URL). */
export function credentialOf(headers: Record<string, string | string[] | undefined>, query: URLSearchParams): string | undefined {
  return credentialFrom(headers, query)?.value;
}

/**
 * Failed credentials per client address, shared by every gateway (see auth-throttle.ts).
 * `blockedFor` is answered from memory, so valid requests pay nothing for it.
 */
export interface FailureThrottle {
  /** Seconds until `client` may present a credential again; 0 when it may now. */
  blockedFor(client: string): number;
  /** Counts a refused credential of `client`; the seconds it is now blocked for (0: still under the limit). */
  failed(client: string): Promise<number>;
}

/** Refusals that are guesses (an unknown key, a forged token): expired tokens were genuine once and do not count. */
const GUESSES: ReadonlySet<string> = new Set(['unauthorized', 'invalid_token']);

const throttled = (s: number) =>
  new LookoutError('rate_limited', `authentication: too many refused credentials from this address; every credential from it is refused for ${s} s`);

export interface AuthenticatorOptions {
  /** Counts refused credentials per client address; none: not throttled. */
  throttle?: FailureThrottle;
  /** Who a request comes from (TRUST_PROXY); default: the TCP peer. */
  clientOf?: ClientAddress;
}

export class Authenticator {
  /** Who a request comes from, for the throttle (REST and WebSocket upgrades alike). */
  readonly clientOf: ClientAddress;
  private readonly throttle: FailureThrottle | undefined;

  constructor(
    private readonly keys: ApiKeys,
    readonly tokens: RoomTokens,
    opts: AuthenticatorOptions = {},
  ) {
    this.throttle = opts.throttle;
    this.clientOf = opts.clientOf ?? clientAddress('');
  }

  /** Resolves a credential; throws `unauthorized`, `invalid_token` or `token_expired`. */
  async principal(credential: string | undefined): Promise<Principal> {
    if (!credential) throw new LookoutError('unauthorized', 'authorization: an API key or a room token is required');
    const name = this.keys.lookup(credential);
    if (name) return { kind: 'admin', name };
    if (credential.split('.').length !== 3) throw new LookoutError('unauthorized', 'authorization: unknown API key');
    return { kind: 'room', claims: await this.tokens.verify(credential) };
  }

  /**
   * Resolves a credential presented by `client` (its address), counting guesses against
   * it: once it has made too many, every credential it presents is refused with
   * `rate_limited` until its budget refills, a right one included (otherwise a 200 among
   * the 429s would still tell a guesser it had found a key).
   */
  async principalFor(credential: string | undefined, client: string): Promise<{ principal: Principal } | { error: LookoutError; retryAfterS?: number }> {
    const blocked = this.throttle?.blockedFor(client) ?? 0;
    if (blocked > 0) return { error: throttled(blocked), retryAfterS: blocked };
    try {
      return { principal: await this.principal(credential) };
    } catch (err) {
      const error = err instanceof LookoutError ? err : new LookoutError('unauthorized', 'authorization: refused');
      if (!credential || !this.throttle || !GUESSES.has(error.code)) return { error };
      const wait = await this.throttle.failed(client);
      return wait > 0 ? { error: throttled(wait), retryAfterS: wait } : { error };
    }
  }

  /**
   * Middleware: resolves the credential if there is one. Refusal is deferred to the route
   * (api-router's access check), so an unknown route is a 404 whoever asks. An admin key
   * is refused in the URL (`?token=`): URLs end up in access logs, proxies and browser
   * history. A room token may still come that way, to routes opened as links (a report's
   * printable page; api-router's `link`).
   */
  authenticate() {
    return (req: Request, res: Response, next: NextFunction) => {
      const credential = credentialFrom(req.headers, new URL(req.originalUrl, 'http://x').searchParams);
      if (!credential) return next();
      const client = this.clientOf(req);
      this.principalFor(credential.value, client)
        .then((r) => {
          if ('error' in r) {
            req.authError = r.error;
            if (r.retryAfterS) res.setHeader('Retry-After', String(r.retryAfterS));
          } else if (credential.inQuery && r.principal.kind === 'admin') {
            req.authError = new LookoutError('unauthorized', 'authorization: an admin API key is not accepted in the URL (?token=); send it as "Authorization: Bearer <key>" or "X-Api-Key: <key>"', 'token');
          } else {
            req.principal = r.principal;
            req.credentialInQuery = credential.inQuery;
          }
          next();
        })
        .catch(next);
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
