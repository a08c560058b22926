// A Nest application context wired to this run's PostgreSQL and Redis, for integration tests of
// services (no HTTP): the same CoreModule the processes use.
import { Test } from '@nestjs/testing';
import type { INestApplicationContext, ModuleMetadata } from '@nestjs/common';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createAppConfig, type AppConfig } from '../../src/core/config/app-config.js';
import { loadBusinessConfig } from '../../src/core/config/business-config.js';
import { parseEnv } from '../../src/core/config/env.schema.js';
import { CoreModule } from '../../src/core/core.module.js';
import { createRootLogger } from '../../src/core/logging/logger.js';

export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  const parsed = parseEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent', REDIS_PREFIX: inject('redisPrefix'), ...overrides });
  if (!parsed.ok) throw new Error(parsed.error);
  return createAppConfig({
    env: parsed.env,
    databaseUrl: inject('databaseUrl'),
    redisUrl: inject('redisUrl'),
    jwtSecret: inject('jwtSecret'),
    business: loadBusinessConfig(join(process.cwd(), 'config')),
  });
}

export async function createTestContext(
  imports: ModuleMetadata['imports'] = [],
  config: AppConfig = testConfig(),
): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [CoreModule.forRoot(config, createRootLogger(config.env.LOG_LEVEL)), ...(imports ?? [])],
  }).compile();
  const app = moduleRef.createNestApplication();
  await app.init();
  return app;
}
