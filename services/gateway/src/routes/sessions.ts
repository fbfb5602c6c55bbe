import type { Request } from 'express';
import { Type } from '@sinclair/typebox';
import { jetstream } from '@nats-io/jetstream';
import { decodeJson, endStreamReply, galleryReply, isId, SessionInfo, SessionReport, SessionStart, subjects, type RoomRole, type SessionInfo as Info, type SessionStart as Start } from '@lookout/contracts';
import type { ApiRouter } from '../http/api-router.js';
import { requireRoom } from '../http/auth.js';
import { ApiError } from '../http/errors.js';
import type { GatewayDeps } from '../deps.js';
import { CLOCK_SKEW_MS, LATE_EVENTS_MS, readStreamEvents } from '../sessions/event-reader.js';
import { buildReport } from '../sessions/report.js';
import { reportHtml } from '../sessions/report-html.js';
import { SessionStore, type StreamEnd } from '../sessions/session-store.js';

// An absent reid answers at once (no responders); these bound a busy one, which on a
// loaded 2-core machine can take seconds between frames, so they leave it room.
const END_STREAM_TIMEOUT_MS = 15_000;
const GALLERY_TIMEOUT_MS = 15_000;
const LIST_MAX = 1000;

interface Ctx {
  d: GatewayDeps;
  store: SessionStore;
  /** A session the caller may see: admin, or a token of its room (with one of `roles`). */
  visible(req: Request, roles?: readonly RoomRole[]): Promise<Info>;
  /** The session's report from its events so far. */
  report(info: Info): Promise<SessionReport>;
  /** The report of an ended session (409 while it runs). */
  finalReport(req: Request): Promise<SessionReport>;
}

/**
 * Proctoring/interview sessions: start, read, end, and reports rebuilt from the events
 * stream. Nothing is held in memory between requests: sessions are in KV, reports are
 * recomputed from LOOKOUT_EVENTS, so any gateway instance serves any session.
 */
export function registerSessionRoutes(api: ApiRouter, d: GatewayDeps): void {
  const ctx = context(d);
  registerLifecycle(api, ctx);
  registerReports(api, ctx);
}

function context(d: GatewayDeps): Ctx {
  const store = new SessionStore(d.kv.sessions, d.kv.streamSessions);
  const js = jetstream(d.nc);
  const log = d.log.child({ module: 'sessions' });
  const onBad = (kind: string, err: Error) => {
    d.badMessages.inc({ subject_kind: `event_${kind}`, reason: 'invalid' });
    log.warn({ kind, error: err.message }, 'skipped a bad event');
  };
  const ctx: Ctx = {
    d,
    store,
    async visible(req, roles) {
      const info = await store.require(String(req.params.session));
      requireRoom(req.principal, info.room, roles);
      return info;
    },
    async report(info) {
      const until = info.endedMs !== undefined ? { untilMs: info.endedMs + LATE_EVENTS_MS } : {};
      const events = await readStreamEvents(js, { room: info.room, stream: info.stream, fromMs: info.startedMs - CLOCK_SKEW_MS, ...until }, onBad);
      return buildReport(info, events, Date.now());
    },
    async finalReport(req) {
      const info = await ctx.visible(req);
      if (info.status !== 'ended') throw new ApiError(409, 'session_running', `session: ${info.sessionId} is still running; GET /sessions/${info.sessionId}/live gives the summary so far`, 'session');
      return ctx.report(info);
    },
  };
  return ctx;
}

function registerLifecycle(api: ApiRouter, { d, store, visible }: Ctx): void {
  api.route({ method: 'post', path: '/sessions', tag: 'sessions', summary: 'Start a session on a stream (admin, or a publisher token of the room)', access: 'any', body: SessionStart, response: SessionInfo, status: 201 }, async (req) => {
    const body = req.body as Start;
    requireRoom(req.principal, body.room, ['publisher']);
    if (body.expectedSubjectId) await checkSubject(d, body.expectedSubjectId);
    return store.start(body);
  });

  api.route(
    { method: 'get', path: '/sessions', tag: 'sessions', summary: 'List sessions, newest first (`?room=`, `?status=running|ended`, `?limit=`, default 100)', access: 'admin', response: Type.Object({ sessions: Type.Array(SessionInfo) }) },
    async (req) => {
      const { room, status, limit } = listQuery(req);
      const all = await store.list(room);
      return { sessions: all.filter((s) => !status || s.status === status).slice(0, limit) };
    },
  );

  api.route({ method: 'get', path: '/sessions/:session', tag: 'sessions', summary: 'A session (admin, or a token of its room)', access: 'any', response: SessionInfo }, (req) => visible(req));

  api.route(
    { method: 'post', path: '/sessions/:session/end', tag: 'sessions', summary: 'End a session: reid closes its open episodes and flushes its last second (admin, or a publisher token)', access: 'any', response: SessionInfo },
    async (req) => {
      const info = await visible(req, ['publisher']);
      return store.end(info.sessionId, (room, stream) => endStream(d, room, stream));
    },
  );
}

function registerReports(api: ApiRouter, ctx: Ctx): void {
  api.route(
    { method: 'get', path: '/sessions/:session/live', tag: 'sessions', summary: 'The session\'s report so far, from the events up to now', access: 'any', response: SessionReport },
    async (req) => ctx.report(await ctx.visible(req)),
  );

  api.route({ method: 'get', path: '/sessions/:session/report', tag: 'sessions', summary: 'Final report of an ended session, rebuilt from the events stream', access: 'any', response: SessionReport }, (req) => ctx.finalReport(req));

  api.route(
    { method: 'get', path: '/sessions/:session/report.html', tag: 'sessions', summary: 'Final report as a printable page with charts (`?token=` works for links)', access: 'any', raw: { contentType: 'text/html' } },
    async (req, res) => {
      const html = reportHtml(await ctx.finalReport(req));
      // The page is self-contained: forbid every script and outside resource.
      res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'");
      res.type('html').send(html);
    },
  );
}

/**
 * A mistyped expected subject would flag every frame as "replaced": refuse one the gallery
 * does not know. With reid unreachable the session still starts (it cannot be checked, and
 * the stream has nobody to analyse it yet either).
 */
async function checkSubject(d: GatewayDeps, subjectId: string): Promise<void> {
  let reply;
  try {
    const msg = await d.nc.request(subjects.gallery('get'), JSON.stringify({ subjectId }), { timeout: GALLERY_TIMEOUT_MS });
    reply = decodeJson(galleryReply.get, msg.data);
  } catch (err) {
    d.log.warn({ subjectId, error: (err as Error).message }, 'could not check the expected subject');
    return;
  }
  if (!reply.ok && reply.error.code === 'not_found') throw new ApiError(422, 'unknown_subject', `expectedSubjectId: no subject ${subjectId} in the gallery`, 'expectedSubjectId');
}

/** Asks reid to close the stream's episodes; reid being down is reported, not fatal. */
async function endStream(d: GatewayDeps, room: string, stream: string): Promise<StreamEnd> {
  try {
    const msg = await d.nc.request(subjects.reidEndStream(), JSON.stringify({ room, stream, reason: 'session ended' }), { timeout: END_STREAM_TIMEOUT_MS });
    const reply = decodeJson(endStreamReply, msg.data);
    return reply.ok ? { ok: true, closedEpisodes: reply.closedEpisodes } : { ok: false, error: `${reply.error.code}: ${reply.error.message}` };
  } catch (err) {
    d.log.warn({ room, stream, error: (err as Error).message }, 'reid did not end the stream');
    return { ok: false, error: `reid unavailable: ${(err as Error).message}` };
  }
}

function listQuery(req: Request): { room?: string; status?: 'running' | 'ended'; limit: number } {
  const q = req.query as Record<string, unknown>;
  const room = q.room;
  if (room !== undefined && !isId(room)) throw new ApiError(400, 'invalid_request', 'room: invalid id', 'room');
  const status = q.status;
  if (status !== undefined && status !== 'running' && status !== 'ended') throw new ApiError(400, 'invalid_request', 'status: expected running or ended', 'status');
  const limit = q.limit === undefined ? 100 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX) throw new ApiError(400, 'invalid_request', `limit: expected an integer from 1 to ${LIST_MAX}`, 'limit');
  return { ...(room !== undefined ? { room } : {}), ...(status !== undefined ? { status } : {}), limit };
}
