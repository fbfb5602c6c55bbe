import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import express, { type Express } from 'express';
import { API_PREFIX } from '@lookout/contracts';
import type { Logger } from '@lookout/service-kit';
import type { GatewayConfig } from './config.js';
import type { ApiRouter } from './http/api-router.js';
import type { Authenticator } from './http/auth.js';
import { cors } from './http/cors.js';
import { docsPage } from './http/docs-page.js';
import { errorHandler, routeNotFound } from './http/errors.js';
import { rateLimit, type Limiter } from './http/rate-limit.js';
import { appHeaders, securityHeaders } from './http/security-headers.js';
import { JobIntake, type JobsPort } from './jobs/intake.js';
import { registerJobRoutes } from './jobs/routes.js';
import { DestinationPolicy } from './webhooks/destination.js';

export interface AppOptions {
  healthHandler: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  webRoot: string;
  log: Logger;
  api: ApiRouter;
  auth: Authenticator;
  corsOrigins: string;
  /** The per-credential request budget (shared by replicas: shared-buckets.ts). */
  limiter: Limiter;
  rateLimitPerMinute: number;
  bodyLimitBytes: number;
  version: string;
  /**
   * Recording jobs: the engine (JobService) and the settings that bound taking in their
   * videos (jobs/intake.ts). Absent: no /jobs routes.
   */
  jobs?: { service: JobsPort; config: Pick<GatewayConfig, 'jobMaxBytes' | 'jobUrlAllowHosts' | 'jobFetchTimeoutMs'> };
}

/**
 * The public HTTP edge: health and metrics, the REST API under /api/v1 (auth, rate limit,
 * body limit, JSON errors), its OpenAPI document and docs page, and the web app; security
 * headers on all of it (http/security-headers.ts).
 */
export function createApp(o: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use((req, res, next) => {
    if (!o.healthHandler(req, res)) next();
  });
  app.use(securityHeaders());
  app.use(cors(o.corsOrigins));
  if (o.jobs) registerJobRoutes(o.api, jobIntake(o.jobs, o.log));
  const doc = o.api.openapi({ title: 'Lookout', version: o.version });
  app.get('/openapi.json', (_req, res) => void res.json(doc));
  app.get('/docs', (_req, res) => void res.type('html').send(docsPage(doc as Parameters<typeof docsPage>[0])));
  app.use(API_PREFIX, o.auth.authenticate(), rateLimit(o.limiter, o.rateLimitPerMinute), express.json({ limit: o.bodyLimitBytes, strict: true }), o.api.router, routeNotFound);
  if (fs.existsSync(o.webRoot)) {
    app.use(express.static(path.resolve(o.webRoot), { index: 'index.html', maxAge: '1h', setHeaders: appHeaders }));
  } else {
    o.log.warn({ webRoot: path.resolve(o.webRoot) }, 'no web app there: / answers 404 (npm run build, or set WEB_ROOT)');
  }
  app.use(routeNotFound);
  app.use(errorHandler(o.log));
  return app;
}

/** Uploads and downloads of recording jobs' videos, bounded by the JOB_* settings; URLs under the webhooks' destination rules. */
function jobIntake(jobs: NonNullable<AppOptions['jobs']>, log: Logger): JobIntake {
  const { config } = jobs;
  return new JobIntake({
    jobs: jobs.service,
    policy: new DestinationPolicy(config.jobUrlAllowHosts, 'JOB_URL_ALLOW_HOSTS'),
    maxBytes: config.jobMaxBytes,
    fetchTimeoutMs: config.jobFetchTimeoutMs,
    log: log.child({ module: 'jobs' }),
  });
}
