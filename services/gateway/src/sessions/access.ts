import { LookoutError, notFound, type SessionInfo, type SessionStart, type SessionStarter } from '@lookout/contracts';
import type { Principal } from '../http/auth.js';

/**
 * Who may do what with a session (docs/gateway.md, "Roles"). A session is monitoring that
 * someone set up on a stream; the person watched holds a publisher token, so what a
 * publisher may do is what that person may do to their own monitoring:
 *
 * - admin: everything.
 * - viewer of the session's room: read it and its reports; never start or end one.
 * - publisher of the session's room: start a session on the room's room config (no rules of
 *   its own, no expected subject: those are the admin's to set, and the subject check would
 *   tell a publisher which gallery ids exist); read any session of its room (a person may
 *   know how they are monitored); read the reports of, and end, only sessions its own peer
 *   started, never one an admin started.
 * - anyone else (a token of another room): the session does not exist for them. They get
 *   the very answer an unknown id gets, so a session id cannot be probed for existence.
 */
export type SessionAction = 'read' | 'report' | 'end';

/** The one answer for an unknown session and for a session the caller may not see. */
export const sessionNotFound = (id: string): LookoutError => notFound(`session: no session ${id}`, 'session');

const forbidden = (message: string, field?: string) => new LookoutError('forbidden', message, field);

/** Who starts `body`, or `forbidden` when the caller may not start it as asked. */
export function sessionStarter(p: Principal, body: SessionStart): SessionStarter {
  if (p.kind === 'admin') return { role: 'admin' };
  const { room, role, peer } = p.claims;
  if (room !== body.room) throw forbidden(`token: not valid for room ${body.room}`, 'room');
  if (role !== 'publisher') throw forbidden('token: only an admin or a publisher of the room may start a session');
  // Thresholds (enabled: false, frames: 10000) would let the person watched switch the watching off.
  if (body.rules !== undefined) throw forbidden('rules: only an admin sets a session\'s alert rules; a publisher\'s session follows the room config', 'rules');
  // Refused whatever the id: answering unknown_subject for some ids would reveal the gallery.
  if (body.expectedSubjectId !== undefined) throw forbidden('expectedSubjectId: only an admin names the person expected', 'expectedSubjectId');
  return { role: 'publisher', peer };
}

/**
 * The session, if the caller may do `action` with it. `info` is undefined for an unknown
 * id. Throws not_found (the same for unknown and unseeable) or forbidden (a caller who may
 * see the session but not do this).
 */
export function authorizeSession(p: Principal, id: string, info: SessionInfo | undefined, action: SessionAction): SessionInfo {
  if (!info) throw sessionNotFound(id);
  if (p.kind === 'admin') return info;
  const { room, role, peer } = p.claims;
  if (info.room !== room) throw sessionNotFound(id);
  if (action === 'read') return info;
  const own = role === 'publisher' && info.startedBy?.role === 'publisher' && info.startedBy.peer === peer;
  if (action === 'report') {
    if (role === 'viewer' || own) return info;
    throw forbidden('session: a publisher reads the reports of sessions it started only');
  }
  if (own) return info;
  throw forbidden(role === 'viewer' ? 'session: a viewer may not end a session' : 'session: a publisher ends only sessions it started; this one was started by an admin or another peer');
}

/**
 * A session as `p` may read it. A publisher learns whether a person is expected but not
 * which gallery subject: a room may hold several candidates, and the id of one is another's
 * gallery entry (no answer reveals the gallery to a non-admin).
 */
export function sessionView(p: Principal, info: SessionInfo): SessionInfo {
  if (p.kind === 'admin' || p.claims.role !== 'publisher' || info.expectedSubjectId === undefined) return info;
  const { expectedSubjectId: _hidden, ...rest } = info;
  return rest;
}
