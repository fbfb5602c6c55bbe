import fs from 'node:fs';
import path from 'node:path';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type http from 'node:http';

export interface AppOptions {
  healthHandler: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  webRoot: string;
}

/** REST edge. Later issues add the API routers; errors are always JSON with a stable code. */
export function createApp(opts: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    if (!opts.healthHandler(req, res)) next();
  });
  if (fs.existsSync(opts.webRoot)) {
    app.use(express.static(path.resolve(opts.webRoot), { index: 'index.html', maxAge: '1h' }));
  }
  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: { code: 'not_found', message: `no route for ${req.method} ${req.path}` } });
  });
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 600 ? err.status : 500;
    res.status(status).json({ error: { code: err.type ?? (status === 500 ? 'internal' : 'bad_request'), message: err.message } });
  });
  return app;
}
