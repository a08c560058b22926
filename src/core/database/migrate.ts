// Runs pending migrations at start-up. Several instances may start at once: a PostgreSQL advisory
// lock, held on a separate connection, lets exactly one of them migrate while the others wait.
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions, type DatabaseSettings } from './data-source.js';

const MIGRATION_LOCK_KEY = 7_231_905_112;

export async function runMigrations(settings: DatabaseSettings): Promise<string[]> {
  const lock = new pg.Client({ connectionString: settings.url, connectionTimeoutMillis: settings.connectTimeoutMs });
  await lock.connect();
  const dataSource = new DataSource({ ...dataSourceOptions({ ...settings, poolSize: 1 }), entities: [] });
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await dataSource.initialize();
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end();
  }
}
