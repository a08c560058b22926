// The data source the TypeORM CLI loads (npm run migration:*; scripts/migration.mjs provides
// DATABASE_URL, starting the embedded server when none is configured).
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is required for the migration CLI');

export default new DataSource({
  ...dataSourceOptions({ url, poolSize: 2, connectTimeoutMs: 10000 }),
  entities: [join(__dirname, '..', '..', '**', '*.entity.js')],
});
