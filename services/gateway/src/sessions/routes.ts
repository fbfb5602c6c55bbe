import type { Request } from 'express';
import { Type } from '@sinclair/typebox';
import { isId, LookoutError, SessionInfo, SessionReport, SessionStart, type SessionInfo as Info, type SessionStart as Start } from '@lookout/contracts';
import type { ApiRouter } from '../http/api-router.js';
import { authorizeSession, sessionStarter, sessionView, type SessionAction } from './access.js';
import { attendanceCsv, attendanceFileName } from './attendance-csv.js';
import { reportHtml } from './report-html.js';
import type { SessionService } from './service.js';

const LIST_MAX = 1000;
const tag = 'sessions';

/** Sessions: start, list, read, end, and their reports (live, final, printable). Who may do what: access.ts. */
export function registerSessionRoutes(api: ApiRouter, sessions: SessionService): void {
  /** The session of `:session`, if the caller may do `action` with it (else not_found or forbidden). */
  const allowed: Allowed = async (req, action) => {
    const id = String(req.params.session);
    // api-router's access 'any' has already refused a request without a credential.
    return authorizeSession(req.principal!, id, await sessions.find(id), action);
  };
  registerLifecycle(api, sessions, allowed);
  registerReports(api, sessions, allowed);
}

type Allowed = (req: Request, action: SessionAction) => Promise<Info>;

const READERS = 'admin; a token of its room (a publisher: any session of its room, without expectedSubjectId); others get 404 as for an unknown id';
const REPORT_READERS = 'admin; a viewer of its room; a publisher of its room for sessions it started; others 404 as for an unknown id';

function registerLifecycle(api: ApiRouter, sessions: SessionService, allowed: Allowed): void {
  api.route(
    {
      method: 'post',
      path: '/sessions',
      tag,
      summary: 'Start a session on a stream. A publisher starts one on the room config: `rules` and `expectedSubjectId` are an admin\'s (403)',
      access: 'any',
      accessNote: 'admin; a publisher of the room, without rules or expectedSubjectId',
      body: SessionStart,
      response: SessionInfo,
      status: 201,
    },
    async (req) => {
      const body = req.body as Start;
      return sessions.start(body, sessionStarter(req.principal!, body));
    },
  );

  api.route(
    { method: 'get', path: '/sessions', tag, summary: 'List sessions, newest first (`?room=`, `?status=running|ended`, `?limit=`, default 100)', access: 'admin', response: Type.Object({ sessions: Type.Array(SessionInfo) }) },
    async (req) => {
      const { room, status, limit } = listQuery(req);
      const all = await sessions.list(room);
      return { sessions: all.filter((s) => !status || s.status === status).slice(0, limit) };
    },
  );

  api.route({ method: 'get', path: '/sessions/:session', tag, summary: 'A session', access: 'any', accessNote: READERS, response: SessionInfo }, async (req) =>
    sessionView(req.principal!, await allowed(req, 'read')),
  );

  api.route(
    {
      method: 'post',
      path: '/sessions/:session/end',
      tag,
      summary: 'End a session: reid closes its open episodes and flushes its last second',
      access: 'any',
      accessNote: 'admin; a publisher of its room for a session its own peer started (never an admin\'s); others 404 as for an unknown id',
      response: SessionInfo,
    },
    async (req) => sessionView(req.principal!, await sessions.end((await allowed(req, 'end')).sessionId)),
  );
}

function registerReports(api: ApiRouter, sessions: SessionService, allowed: Allowed): void {
  api.route(
    { method: 'get', path: '/sessions/:session/live', tag, summary: 'The session\'s report so far, from the events up to now', access: 'any', accessNote: REPORT_READERS, response: SessionReport },
    async (req) => sessions.report(await allowed(req, 'report')),
  );

  api.route({ method: 'get', path: '/sessions/:session/report', tag, summary: 'Final report of an ended session, rebuilt from the events stream', access: 'any', accessNote: REPORT_READERS, response: SessionReport }, async (req) =>
    sessions.finalReport(await allowed(req, 'report')),
  );

  api.route(
    { method: 'get', path: '/sessions/:session/report.html', tag, summary: 'Final report as a printable page with charts (`?token=` works for links)', access: 'any', accessNote: REPORT_READERS, raw: { contentType: 'text/html' }, link: true },
    async (req, res) => {
      const html = reportHtml(await sessions.finalReport(await allowed(req, 'report')));
      // The page is self-contained: forbid every script and outside resource.
      res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'");
      res.type('html').send(html);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/sessions/:session/attendance.csv',
      tag,
      summary: 'Who was here, and when: the attendance of the session so far (final once it ended) as CSV, one row per identified person and per unknown track (`?token=` works for links)',
      access: 'any',
      accessNote: REPORT_READERS,
      raw: { contentType: 'text/csv' },
      link: true,
    },
    async (req, res) => {
      const report = await sessions.report(await allowed(req, 'report'));
      res.setHeader('Content-Disposition', `attachment; filename="${attendanceFileName(report)}"`);
      res.type('text/csv; charset=utf-8').send(attendanceCsv(report));
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
