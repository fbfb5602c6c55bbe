import type { Request } from 'express';
import { Type } from '@sinclair/typebox';
import { isId, LookoutError, SessionInfo, SessionReport, SessionStart, type RoomRole, type SessionInfo as Info, type SessionStart as Start } from '@lookout/contracts';
import type { ApiRouter } from '../http/api-router.js';
import { requireRoom } from '../http/auth.js';
import { reportHtml } from './report-html.js';
import type { SessionService } from './service.js';

const LIST_MAX = 1000;
const tag = 'sessions';

/** Sessions: start, list, read, end, and their reports (live, final, printable). */
export function registerSessionRoutes(api: ApiRouter, sessions: SessionService): void {
  /** A session the caller may see: admin, or a token of its room (with one of `roles`). */
  const visible = async (req: Request, roles?: readonly RoomRole[]): Promise<Info> => {
    const info = await sessions.get(String(req.params.session));
    requireRoom(req.principal, info.room, roles);
    return info;
  };
  registerLifecycle(api, sessions, visible);
  registerReports(api, sessions, visible);
}

type Visible = (req: Request, roles?: readonly RoomRole[]) => Promise<Info>;

function registerLifecycle(api: ApiRouter, sessions: SessionService, visible: Visible): void {
  api.route({ method: 'post', path: '/sessions', tag, summary: 'Start a session on a stream (admin, or a publisher token of the room)', access: 'any', body: SessionStart, response: SessionInfo, status: 201 }, async (req) => {
    const body = req.body as Start;
    requireRoom(req.principal, body.room, ['publisher']);
    return sessions.start(body);
  });

  api.route(
    { method: 'get', path: '/sessions', tag, summary: 'List sessions, newest first (`?room=`, `?status=running|ended`, `?limit=`, default 100)', access: 'admin', response: Type.Object({ sessions: Type.Array(SessionInfo) }) },
    async (req) => {
      const { room, status, limit } = listQuery(req);
      const all = await sessions.list(room);
      return { sessions: all.filter((s) => !status || s.status === status).slice(0, limit) };
    },
  );

  api.route({ method: 'get', path: '/sessions/:session', tag, summary: 'A session (admin, or a token of its room)', access: 'any', response: SessionInfo }, (req) => visible(req));

  api.route(
    { method: 'post', path: '/sessions/:session/end', tag, summary: 'End a session: reid closes its open episodes and flushes its last second (admin, or a publisher token)', access: 'any', response: SessionInfo },
    async (req) => sessions.end((await visible(req, ['publisher'])).sessionId),
  );
}

function registerReports(api: ApiRouter, sessions: SessionService, visible: Visible): void {
  api.route(
    { method: 'get', path: '/sessions/:session/live', tag, summary: 'The session\'s report so far, from the events up to now', access: 'any', response: SessionReport },
    async (req) => sessions.report(await visible(req)),
  );

  api.route({ method: 'get', path: '/sessions/:session/report', tag, summary: 'Final report of an ended session, rebuilt from the events stream', access: 'any', response: SessionReport }, async (req) =>
    sessions.finalReport(await visible(req)),
  );

  api.route(
    { method: 'get', path: '/sessions/:session/report.html', tag, summary: 'Final report as a printable page with charts (`?token=` works for links)', access: 'any', raw: { contentType: 'text/html' } },
    async (req, res) => {
      const html = reportHtml(await sessions.finalReport(await visible(req)));
      // The page is self-contained: forbid every script and outside resource.
      res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'");
      res.type('html').send(html);
    },
  );
}

function listQuery(req: Request): { room?: string; status?: 'running' | 'ended'; limit: number } {
  const q = req.query as Record<string, unknown>;
  const room = q.room;
  if (room !== undefined && !isId(room)) throw new LookoutError('invalid_request', 'room: invalid id', 'room');
  const status = q.status;
  if (status !== undefined && status !== 'running' && status !== 'ended') throw new LookoutError('invalid_request', 'status: expected running or ended', 'status');
  const limit = q.limit === undefined ? 100 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX) throw new LookoutError('invalid_request', `limit: expected an integer from 1 to ${LIST_MAX}`, 'limit');
  return { ...(room !== undefined ? { room } : {}), ...(status !== undefined ? { status } : {}), limit };
}
