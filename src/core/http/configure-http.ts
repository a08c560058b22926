// The HTTP pipeline, in order: trace id, security headers, JSON-only bodies with a size limit
// (the raw bytes kept for webhook signatures; too deep or inexact numbers refused before parsing), the /api/v1 prefix, validation, one error shape,
// CORS, and the OpenAPI document at /api/docs.
import { Logger, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { AppConfig } from '../config/app-config.js';
import { errorBody, HttpExceptionFilter, toHttpError, traceIdOf } from '../errors/http-exception.filter.js';
import { JsonInputError, refuseJsonText } from '../errors/json-input.js';
import { createValidationPipe } from '../errors/validation.js';
import { assignTraceId } from '../logging/logger.js';
import { PAYMENT_UPDATES_ROUTES } from '../realtime/plain/payment-updates.controller.js';
import { serveDemoPage } from './demo-page.js';
import { REALTIME_DOCS_ROUTES } from './realtime-docs.module.js';
import { serveOpenApi } from './openapi.js';

export const API_PREFIX = 'api/v1';
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Routes outside the prefix: Prometheus, seed 002's REST beside its socket, the realtime API reference. */
const UNPREFIXED_ROUTES = ['metrics', ...PAYMENT_UPDATES_ROUTES, ...REALTIME_DOCS_ROUTES];

/** Puts every route under /api/v1 but those of UNPREFIXED_ROUTES. */
export function applyApiPrefix(app: INestApplication): void {
  app.setGlobalPrefix(API_PREFIX, { exclude: UNPREFIXED_ROUTES });
}

export type RequestWithRawBody = Request & { rawBody?: Buffer };

/** Only JSON bodies are accepted; anything else is refused before it reaches a handler. */
function requireJson(req: Request, res: Response, next: NextFunction): void {
  const length = Number(req.headers['content-length'] ?? 0);
  const hasBody = length > 0 || req.headers['transfer-encoding'] !== undefined;
  if (BODY_METHODS.has(req.method) && hasBody && !req.is('application/json')) {
    const message = 'invalid request format: the body must be JSON (Content-Type: application/json)';
    res.status(400).json(errorBody(traceIdOf(req), 400, 'INVALID_REQUEST', message));
    return;
  }
  next();
}

export function configureHttp(app: NestExpressApplication, config: AppConfig): void {
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use((req: Request, res: Response, next: NextFunction) => {
    assignTraceId(req, res);
    next();
  });
  app.use(
    helmet({ contentSecurityPolicy: { directives: { 'script-src': ["'self'"], 'img-src': ["'self'", 'data:'] } } }),
  );
  app.use(requireJson);
  app.use(
    express.json({
      limit: config.env.HTTP_BODY_LIMIT,
      strict: true,
      verify: (req: RequestWithRawBody, _res, buffer) => {
        req.rawBody = buffer;
        const refusal = refuseJsonText(buffer.toString('utf8'));
        if (refusal) throw new JsonInputError(refusal);
      },
    }),
  );
  // Errors of the middleware above (malformed JSON, oversized body) never reach Nest's filters;
  // one that is not the client's fault is logged as the filter logs it.
  const logger = new Logger('HttpExceptionFilter');
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const body = toHttpError(error, traceIdOf(req));
    if (body.status_code >= 500) logger.error({ err: error, trace_id: body.trace_id }, 'unhandled error');
    res.status(body.status_code).json(body);
  });

  serveDemoPage(app, config.env);
  applyApiPrefix(app);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter());
  const origins = config.env.ALLOWED_ORIGINS;
  app.enableCors({ origin: origins.length === 0 || origins.includes('*') ? true : origins, credentials: false });

  serveOpenApi(app);
}
