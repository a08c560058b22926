// PostgreSQL and Redis for a test run: DATABASE_URL / REDIS_URL when given (CI uses the machine's
// servers), otherwise a throwaway embedded PostgreSQL and a redis-server child on free ports.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { startEmbeddedPostgres } from '../../src/core/infra/embedded-postgres.js';
import { startRedisServer } from '../../src/core/infra/redis-server.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755); // the embedded PostgreSQL may run as another user
  return dir;
}

export function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return withDatabase(serverUrl, name);
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface TestServers {
  databaseServerUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

export async function startTestServers(log: (line: string) => void = () => undefined): Promise<TestServers> {
  const stops: (() => Promise<void>)[] = [];
  const dirs: string[] = [];
  let databaseServerUrl = process.env.DATABASE_URL;
  if (!databaseServerUrl) {
    const dir = tempDir('cashier-test-pg-');
    dirs.push(dir);
    const server = await startEmbeddedPostgres({
      dataDir: join(dir, 'data'),
      port: await freePort(),
      password: randomBytes(12).toString('hex'),
      database: 'postgres',
      persistent: false,
      log,
    });
    stops.push(server.stop);
    databaseServerUrl = server.url;
  }
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const dir = tempDir('cashier-test-redis-');
    dirs.push(dir);
    const server = await startRedisServer({ dataDir: dir, port: await freePort(), persistent: false, log });
    stops.push(server.stop);
    redisUrl = server.url;
  }
  return {
    databaseServerUrl,
    redisUrl,
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}
