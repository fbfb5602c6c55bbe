import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { TSchema } from '@sinclair/typebox';
import { API_PREFIX, ErrorResponse, isId, LookoutError, validator, type RoomRole } from '@lookout/contracts';
import { requireAdmin, requireRoom } from './auth.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call a route: `admin` (API key), `room` (admin, or a token for the room named
 * by the `:room` path parameter), `any` (any valid credential; the handler checks more),
 * `none` (public).
 */
export type Access = 'admin' | 'room' | 'any' | 'none';

export interface RouteSpec {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  access: Access;
  roles?: readonly RoomRole[];
  /**
   * Who may call it, in words, where `access` alone does not say (an `any` route whose
   * handler decides per role): the OpenAPI `x-access`, and docs/gateway.md's role matrix.
   */
  accessNote?: string;
  /** The message of the 403 for a credential `access` refuses, where the generic one would not say why. */
  denied?: string;
  /** JSON body, validated before the handler runs; errors name the field. */
  body?: TSchema;
  /**
   * Non-JSON bodies, for the document only (the handler parses them). With `body` too, the
   * route takes either: `body` is validated only when the request is JSON.
   */
  upload?: { contentType: string; description: string };
  response?: TSchema;
  /** Success status (default 200). */
  status?: number;
  /** A second success status the handler answers itself, with the same body (a JSON request accepted for later: 202). */
  alsoStatus?: { status: number; description: string };
  /** The handler writes the response itself (HTML, streams). */
  raw?: { contentType: string };
  /**
   * A page opened as a link (printable report), where a browser cannot set a header: a room
   * token may come as `?token=`. Every other route refuses a credential in the URL (URLs end
   * up in logs and history; an admin key there is refused everywhere, see auth.ts).
   */
  link?: true;
}

type Handler = (req: Request, res: Response) => unknown;

interface Operation {
  spec: RouteSpec;
}

/**
 * Routes of the REST API, declared once: the same declaration validates the request,
 * checks access and feeds the OpenAPI document, so the document cannot drift from what
 * the server does. Path parameters are ids (validated); JSON bodies are validated with
 * their contracts schema.
 */
export class ApiRouter {
  readonly router: Router = express.Router();
  private readonly ops: Operation[] = [];

  route(spec: RouteSpec, handler: Handler): void {
    const check = spec.body ? validator('body', spec.body) : undefined;
    this.ops.push({ spec });
    this.router[spec.method](spec.path, async (req: Request, res: Response, next: NextFunction) => {
      try {
        for (const [name, value] of Object.entries(req.params)) {
          if (!isId(value)) throw new LookoutError('invalid_request', `${name}: invalid id; expected 1–64 characters from [A-Za-z0-9_-]`, name);
        }
        authorize(spec, req);
        if (check && (!spec.upload || req.is('application/json'))) req.body = check.parse(req.body ?? {});
        const result = await handler(req, res);
        if (!res.headersSent) res.status(spec.status ?? 200).json(result ?? {});
      } catch (err) {
        next(err);
      }
    });
  }

  /** The OpenAPI 3.1 document of every declared route. */
  openapi(info: { title: string; version: string }): object {
    const paths: Record<string, Record<string, object>> = {};
    for (const { spec } of this.ops) {
      const path = API_PREFIX + spec.path.replace(/:([A-Za-z]+)/g, '{$1}');
      (paths[path] ??= {})[spec.method] = operation(spec);
    }
    return {
      openapi: '3.1.0',
      info: { ...info, description: 'Lookout gateway API. Errors are `ErrorResponse` with a stable `code` and the offending `field`.' },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An admin API key or a room token (JWT, HS256)' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
          linkToken: { type: 'apiKey', in: 'query', name: 'token', description: 'A room token, only on routes opened as links (never an admin key)' },
        },
        schemas: { ErrorResponse: plain(ErrorResponse) },
      },
      paths,
    };
  }
}

function authorize(spec: RouteSpec, req: Request): void {
  if (spec.access === 'none') return;
  if (!req.principal) throw req.authError ?? new LookoutError('unauthorized', 'authorization: an API key or a room token is required');
  if (req.credentialInQuery && !spec.link) {
    throw new LookoutError('unauthorized', 'authorization: ?token= is accepted only on pages opened as links (a report\'s report.html); send the token as "Authorization: Bearer <token>"', 'token');
  }
  try {
    if (spec.access === 'admin') requireAdmin(req.principal);
    if (spec.access === 'room') requireRoom(req.principal, String(req.params.room), spec.roles);
  } catch (err) {
    if (spec.denied && err instanceof LookoutError && err.code === 'forbidden') throw new LookoutError('forbidden', spec.denied);
    throw err;
  }
}

/** Who may call the route, in words (OpenAPI `x-access`). */
function accessText(spec: RouteSpec): string {
  if (spec.accessNote) return spec.accessNote;
  return spec.access === 'room' ? `admin, or a room token (${(spec.roles ?? ['publisher', 'viewer']).join(' or ')})` : spec.access;
}

function operation(spec: RouteSpec): object {
  const params = [...spec.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } }));
  const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } } });
  const ok = spec.raw ? { description: 'OK', content: { [spec.raw.contentType]: {} } } : { description: 'OK', content: { 'application/json': { schema: spec.response ? plain(spec.response) : {} } } };
  return {
    summary: spec.summary,
    tags: [spec.tag],
    ...(spec.access === 'none' ? {} : { security: [{ bearer: [] }, { apiKey: [] }, ...(spec.link ? [{ linkToken: [] }] : [])] }),
    'x-access': accessText(spec),
    parameters: params,
    ...(spec.body || spec.upload ? { requestBody: requestBody(spec) } : {}),
    responses: {
      [String(spec.status ?? 200)]: ok,
      ...(spec.alsoStatus ? { [String(spec.alsoStatus.status)]: { ...ok, description: spec.alsoStatus.description } } : {}),
      400: error('Invalid request (the error names the field)'),
      ...(spec.access === 'none' ? {} : { 401: error('Missing, malformed or expired credential'), 403: error('Credential not allowed here') }),
      413: error('Body larger than the limit'),
      429: error('Rate limit exceeded'),
    },
  };
}

/** The request body of the document: JSON (`body`), a non-JSON upload, or either. */
function requestBody(spec: RouteSpec): object {
  return {
    required: true,
    ...(spec.upload ? { description: spec.upload.description } : {}),
    content: { ...(spec.body ? { 'application/json': { schema: plain(spec.body) } } : {}), ...(spec.upload ? { [spec.upload.contentType]: {} } : {}) },
  };
}

/** A TypeBox schema as plain JSON Schema (drops TypeBox's symbol keys). */
function plain(schema: TSchema): object {
  return JSON.parse(JSON.stringify(schema)) as object;
}
