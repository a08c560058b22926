// The OpenAPI document of the whole application without running it: the API module built in
// Nest's preview mode (modules and controllers are scanned, no provider is instantiated, so
// nothing connects to PostgreSQL or Redis). scripts/rest-docs.mjs writes docs/rest.md from it and
// api-reference.spec.ts checks that docs/rest.md is current.
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

/** The document of every route the API serves outside production (the sandbox and the mailbox included). */
export async function buildOpenApiDocument(configDir = 'config'): Promise<OpenAPIObject> {
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
  try {
    return createOpenApiDocument(app);
  } finally {
    await app.close();
  }
}
