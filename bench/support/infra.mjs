// What a bench run owns outside its processes: a fresh database, a copy of config/ with the plan
// limits raised, and the Redis keys under its prefix. Each creator returns its own undo.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

/** Creates database `name` next to the admin database; returns the new database's URL. */
export async function createDatabase(adminUrl, name) {
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(adminUrl, name) {
  await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Copies `source` (config/) to a temp dir and lifts the limits that would otherwise refuse the
 * bench's load: 5,000 sockets over 50 users, thousands of messages a minute, and a user's socket
 * sending more than its plan's messages per second (the market bench with few users).
 */
export async function benchConfigDir(source) {
  const dir = await mkdtemp(join(tmpdir(), 'cashier-bench-config-'));
  await cp(source, dir, { recursive: true });
  const file = join(dir, 'plans.json');
  const plans = JSON.parse(await readFile(file, 'utf8'));
  plans.plans.standard.max_connections = 100_000;
  plans.plans.standard.messages_per_second = 1_000_000;
  plans.requests_per_minute = 1_000_000;
  await writeFile(file, JSON.stringify(plans, null, 2));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Deletes every key under `prefix:` (SCAN, never KEYS); returns how many. */
export async function deleteRedisKeys(redisUrl, prefix) {
  const redis = new Redis(redisUrl);
  let deleted = 0;
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) {
      if (keys.length > 0) deleted += await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}
