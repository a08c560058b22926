// The demo page at `/` (client/demo, bundled into dist/demo by `npm run build`): a small app over
// the typed client. Served outside the /api/v1 prefix by plain express middleware that answers only
// its own few files, so every other request passes by without touching the disk. Off in
// production unless DEMO_PAGE=true.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Env } from '../config/env.schema.js';

/** dist/demo, beside dist/src (this file is dist/src/core/http/demo-page.js once built). */
export const DEMO_PAGE_DIR = join(__dirname, '..', '..', '..', 'demo');
const FILES = new Set(['/', '/index.html', '/app.js', '/app.js.map', '/style.css']);

export function isDemoPageEnabled(env: Pick<Env, 'DEMO_PAGE' | 'NODE_ENV'>): boolean {
  return env.DEMO_PAGE ?? env.NODE_ENV !== 'production';
}

export function serveDemoPage(app: NestExpressApplication, env: Env): void {
  if (!isDemoPageEnabled(env)) return;
  if (!existsSync(join(DEMO_PAGE_DIR, 'index.html'))) {
    new Logger('DemoPage').warn(`the demo page is not built (no ${DEMO_PAGE_DIR}): run npm run build`);
    return;
  }
  const files = express.static(DEMO_PAGE_DIR, { index: 'index.html', fallthrough: true });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && FILES.has(req.path)) files(req, res, next);
    else next();
  });
}
