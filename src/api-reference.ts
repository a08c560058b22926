// The OpenAPI document of the whole application without running it: the API module built in
// Nest's preview mode (modules and controllers are scanned, no provider is instantiated, so
// nothing connects to PostgreSQL or Redis). scripts/rest-docs.mjs writes docs/rest.md from it;
// api-reference.spec.ts checks docs/rest.md and docs/asyncapi.yaml against it.
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { OpenAPIObject } from '@nestjs/swagger';
import pino from 'pino';
import { AppModule } from './app.module.js';
import { createAppConfig } from './core/config/app-config.js';
import { loadBusinessConfig } from './core/config/business-config.js';
import { parseEnv } from './core/config/env.schema.js';
import { applyApiPrefix } from './core/http/configure-http.js';
import { createOpenApiDocument } from './core/http/openapi.js';

/**
 * The API application in preview mode, as AppModule builds it outside production (the sandbox
 * partners and the development mailbox included), with the global prefix set. Close it after use.
 */
export async function createPreviewApp(configDir = 'config'): Promise<NestExpressApplication> {
  const parsed = parseEnv({ NODE_ENV: 'development', LOG_LEVEL: 'silent' });
  if (!parsed.ok) throw new Error(parsed.error);
  const config = createAppConfig({
    env: parsed.env,
    // Never connected to: preview mode instantiates nothing.
    databaseUrl: 'postgres://preview@127.0.0.1:1/preview',
    redisUrl: 'redis://127.0.0.1:1',
    jwtSecret: 'preview'.repeat(8),
    business: loadBusinessConfig(configDir),
  });
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, pino({ level: 'silent' }), { withWorker: false }),
    { preview: true, logger: false, abortOnError: false, bodyParser: false },
  );
  applyApiPrefix(app);
  return app;
}

/** The document of every route the API serves (see createPreviewApp). */
export async function buildOpenApiDocument(configDir = 'config'): Promise<OpenAPIObject> {
  const app = await createPreviewApp(configDir);
  try {
    return createOpenApiDocument(app);
  } finally {
    await app.close();
  }
}
