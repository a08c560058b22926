// Per test project: the servers (given or throwaway), a database of its own migrated to the latest
// schema, and a Redis prefix of its own. Everything is removed again at the end.
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { runMigrations } from '../../src/core/database/migrate.js';
import { createDatabase, deleteRedisKeys, dropDatabase, startTestServers } from './infrastructure.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const servers = await startTestServers();
  const runId = `${project.name}_${randomBytes(4).toString('hex')}`;
  const database = `cashier_test_${runId}`;
  const databaseUrl = await createDatabase(servers.databaseServerUrl, database);
  await runMigrations({ url: databaseUrl, poolSize: 1, connectTimeoutMs: 10_000 });
  const redisPrefix = `cashier-test-${runId}`;

  project.provide('databaseUrl', databaseUrl);
  project.provide('databaseServerUrl', servers.databaseServerUrl);
  project.provide('redisUrl', servers.redisUrl);
  project.provide('redisPrefix', redisPrefix);
  project.provide('jwtSecret', randomBytes(32).toString('hex'));

  return async () => {
    await dropDatabase(servers.databaseServerUrl, database);
    await deleteRedisKeys(servers.redisUrl, redisPrefix);
    await servers.stop();
  };
}
