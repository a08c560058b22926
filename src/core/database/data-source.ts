// One definition of the PostgreSQL data source, used by the application, the migration CLI and the
// test setup. The schema comes only from migrations (synchronize is off).
import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../../migrations/index.js';

export interface DatabaseSettings {
  url: string;
  poolSize: number;
  connectTimeoutMs: number;
}

export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    applicationName: 'cashier',
    extra: {
      max: settings.poolSize,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      // A query is sent without waiting for the one before it to be answered (transactions.ts sends
      // BEGIN with the first statement); awaited one by one, queries behave as without it.
      pipeline: true,
    },
  };
}
