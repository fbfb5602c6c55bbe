import { LookoutError, WS_PREVIEW_ROLES, type ClientMessage, type WsFeed, type WsRole } from '@lookout/contracts';
import type { Authenticator, Principal } from '../http/auth.js';
import { toWsError } from './errors.js';
import type { Grant } from './signaling.js';

type Join = Extract<ClientMessage, { type: 'join' }>;

/**
 * What one socket may do: the rooms it joined (one grant each, from a room token) and
 * whether an admin key authenticated it (then every room may be read, and joined without
 * a token).
 */
export class Access {
  private admin: string | undefined;
  private readonly grants = new Map<string, Grant>();

  constructor(
    private readonly auth: Authenticator,
    /** Peer id of an admin that names none. */
    private readonly adminPeer: string,
    /** The socket's client address: its refused credentials count against it (http/auth-throttle.ts). */
    private readonly client: string,
  ) {}

  get authenticated(): boolean {
    return this.admin !== undefined || this.grants.size > 0;
  }

  /** A credential from the URL (`?token=`) or headers: an admin key, or a token that joins its room. */
  async fromCredential(credential: string): Promise<Grant | undefined> {
    const p = await this.principal(credential, 'token');
    if (p.kind === 'admin') {
      this.admin = p.name;
      return undefined;
    }
    return this.set({ room: p.claims.room, role: p.claims.role, peer: p.claims.peer, expiresMs: p.claims.exp * 1000 });
  }

  /** Resolves a join; throws a credential error (closes 4401) or `forbidden` (room or peer of another token; closes 4403). */
  async join(msg: Join): Promise<Grant> {
    if (msg.token === undefined) {
      if (this.admin !== undefined) return this.set({ room: msg.room, role: 'admin', peer: msg.peer ?? this.adminPeer });
      const joined = this.grants.get(msg.room);
      if (!joined) throw new LookoutError('unauthorized', 'token: a room token for this room or an API key is required', 'token');
      this.checkPeer(msg, joined.peer);
      return joined;
    }
    const p = await this.principal(msg.token, 'token');
    if (p.kind === 'admin') {
      this.admin = p.name;
      return this.set({ room: msg.room, role: 'admin', peer: msg.peer ?? this.adminPeer });
    }
    const c = p.claims;
    if (c.room !== msg.room) throw new LookoutError('forbidden', `room: the token is for another room (${c.room})`, 'room');
    this.checkPeer(msg, c.peer);
    return this.set({ room: c.room, role: c.role, peer: c.peer, expiresMs: c.exp * 1000 });
  }

  canRead(room: string): boolean {
    return this.admin !== undefined || this.grants.has(room);
  }

  /** What this socket is in `room`: admin (API key), its token's role there, or nothing. */
  roleIn(room: string): WsRole | undefined {
    return this.admin !== undefined ? 'admin' : this.grants.get(room)?.role;
  }

  /** Throws `forbidden` unless the socket may follow these feeds of `room` (previews: viewers and admins only). */
  checkFeeds(room: string, feeds: readonly WsFeed[]): void {
    if (!this.canRead(room)) throw new LookoutError('forbidden', `room: this connection has not joined room ${room}`, 'room');
    const role = this.roleIn(room);
    if (feeds.includes('preview') && !(WS_PREVIEW_ROLES as readonly string[]).includes(role ?? '')) {
      throw new LookoutError('forbidden', `feeds: a ${role ?? 'socket without a role'} may not follow preview (viewers and admins only)`, 'feeds');
    }
  }

  /** Whether any room was joined with a publisher token (its feeds are filtered: PublisherView). */
  get hasPublisherGrant(): boolean {
    if (this.admin !== undefined) return false;
    for (const g of this.grants.values()) if (g.role === 'publisher') return true;
    return false;
  }

  /** The peer of this socket's publisher grant in `room`; undefined when it is not a publisher there. */
  publisherPeerIn(room: string): string | undefined {
    if (this.admin !== undefined) return undefined;
    const g = this.grants.get(room);
    return g?.role === 'publisher' ? g.peer : undefined;
  }

  isJoined(room: string): boolean {
    return this.grants.has(room);
  }

  /** The grant to act in `room`, or in the only room joined when none is named. */
  grantFor(room: string | undefined): Grant {
    if (room !== undefined) {
      const g = this.grants.get(room);
      if (!g) throw new LookoutError('forbidden', `room: this connection has not joined room ${room}`, 'room');
      return g;
    }
    if (this.grants.size !== 1) throw new LookoutError('invalid_message', this.grants.size === 0 ? 'room: join a room first' : 'room: required when several rooms are joined', 'room');
    return this.grants.values().next().value as Grant;
  }

  private set(grant: Grant): Grant {
    this.grants.set(grant.room, grant);
    return grant;
  }

  private checkPeer(msg: Join, peer: string): void {
    if (msg.peer !== undefined && msg.peer !== peer) throw new LookoutError('forbidden', `peer: the token is for another peer (${peer})`, 'peer');
  }

  private async principal(credential: string, field: string): Promise<Principal> {
    const r = await this.auth.principalFor(credential, this.client);
    if ('principal' in r) return r.principal;
    const e = toWsError(r.error);
    throw new LookoutError(e.code, e.message, e.field ?? field);
  }
}
