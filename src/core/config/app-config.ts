// The resolved configuration the application runs with: the validated environment, the business
// files, and the database and Redis addresses (given, or those of the embedded servers started for
// a laptop). Injected by class; nothing else in the application reads process.env.
import type { BusinessConfig } from './business-config.js';
import type { Env } from './env.schema.js';

export abstract class AppConfig {
  abstract readonly env: Env;
  abstract readonly databaseUrl: string;
  abstract readonly redisUrl: string;
  abstract readonly jwtSecret: string;
  abstract readonly business: BusinessConfig;
}

export function createAppConfig(values: {
  env: Env;
  databaseUrl: string;
  redisUrl: string;
  jwtSecret: string;
  business: BusinessConfig;
}): AppConfig {
  return Object.freeze({ ...values });
}
