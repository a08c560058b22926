// Where PostgreSQL and Redis come from: the configured URLs, or (for `npm start` on a laptop) an
// embedded PostgreSQL and a redis-server child with their data under DATA_DIR.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Env } from '../config/env.schema.js';
import { devSecret } from '../config/dev-secrets.js';
import { InfrastructureError, startEmbeddedPostgres, type EmbeddedServer } from './embedded-postgres.js';
import { checkPostgres, checkRedis } from './preflight.js';
import { isAlive } from './processes.js';
import { startRedisServer } from './redis-server.js';

export interface Infrastructure {
  databaseUrl: string;
  /** Empty when Redis was not asked for. */
  redisUrl: string;
  /** Stops what this process started (nothing when both URLs were given). */
  stop(): Promise<void>;
}

/** One process at a time owns the embedded servers of a DATA_DIR. */
function claimDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lockFile = join(dataDir, 'cashier.pid');
  try {
    const owner = Number.parseInt(readFileSync(lockFile, 'utf8'), 10);
    if (owner !== process.pid && Number.isInteger(owner) && isAlive(owner)) {
      throw new InfrastructureError(
        `DATA_DIR ${dataDir} is in use by another cashier process (pid ${owner}): stop it, or set DATABASE_URL and REDIS_URL`,
      );
    }
  } catch (error) {
    if (error instanceof InfrastructureError) throw error;
  }
  writeFileSync(lockFile, String(process.pid));
  return () => rmSync(lockFile, { force: true });
}

export async function provideInfrastructure(
  env: Env,
  log: (line: string) => void,
  debug: (line: string) => void = log,
  options: { redis: boolean } = { redis: true },
): Promise<Infrastructure> {
  const started: EmbeddedServer[] = [];
  let release: (() => void) | undefined;
  const stop = async () => {
    for (const server of started.reverse()) await server.stop();
    started.length = 0;
    release?.();
  };
  try {
    const needsEmbedded = !env.DATABASE_URL || (options.redis && !env.REDIS_URL);
    if (needsEmbedded && env.ROLE === 'worker') {
      throw new InfrastructureError(
        'ROLE=worker needs DATABASE_URL and REDIS_URL (embedded servers are started only by ROLE=api or ROLE=all)',
      );
    }
    const dataDir = resolve(env.DATA_DIR);
    if (needsEmbedded) release = claimDataDir(dataDir);

    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      log(`DATABASE_URL is not set: starting embedded PostgreSQL on 127.0.0.1:${env.EMBEDDED_PG_PORT}`);
      const server = await startEmbeddedPostgres({
        dataDir: join(dataDir, 'postgres'),
        port: env.EMBEDDED_PG_PORT,
        password: devSecret(dataDir, 'embedded_pg_password'),
        database: 'cashier',
        persistent: true,
        log: (line) => debug(`postgres: ${line}`),
      });
      started.push(server);
      databaseUrl = server.url;
    }
    let redisUrl = env.REDIS_URL ?? '';
    if (options.redis && !redisUrl) {
      log(`REDIS_URL is not set: starting redis-server on 127.0.0.1:${env.EMBEDDED_REDIS_PORT}`);
      const server = await startRedisServer({
        dataDir: join(dataDir, 'redis'),
        port: env.EMBEDDED_REDIS_PORT,
        persistent: true,
        log,
      });
      started.push(server);
      redisUrl = server.url;
    }
    await checkPostgres('DATABASE_URL', databaseUrl, env.DATABASE_CONNECT_TIMEOUT_MS);
    if (options.redis) await checkRedis('REDIS_URL', redisUrl, env.DATABASE_CONNECT_TIMEOUT_MS, env.REDIS_CLUSTER);
    return { databaseUrl, redisUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
