#!/usr/bin/env node
// npm run migration:generate -- <Name> | migration:run | migration:revert
// Runs the TypeORM CLI against the compiled data source (dist/), with DATABASE_URL from the
// environment or, when unset, the embedded PostgreSQL under DATA_DIR that `npm start` uses.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [command, name] = process.argv.slice(2);
const commands = { generate: 'migration:generate', run: 'migration:run', revert: 'migration:revert' };
if (!commands[command] || (command === 'generate' && !/^[A-Za-z][A-Za-z0-9]*$/.test(name ?? ''))) {
  console.error('usage: migration.mjs generate <PascalCaseName> | run | revert');
  process.exit(2);
}

const { parseEnv } = require('../dist/src/core/config/env.schema.js');
const { provideInfrastructure } = require('../dist/src/core/infra/infrastructure.js');
const parsed = parseEnv(process.env);
if (!parsed.ok) {
  console.error(`cashier: ${parsed.error}`);
  process.exit(1);
}
const log = (line) => console.error(line);
const infra = await provideInfrastructure(parsed.env, log, () => undefined, { redis: false });
let status;
try {
  const args = [
    require.resolve('typeorm/cli.js'),
    commands[command],
    '-d',
    'dist/src/core/database/cli-data-source.js',
  ];
  if (command === 'generate') args.push(`migrations/${name}`, '--outputJs=false', '--pretty');
  status =
    spawnSync(process.execPath, args, {
      stdio: 'inherit',
      env: { ...process.env, DATABASE_URL: infra.databaseUrl },
    }).status ?? 1;
  if (command === 'generate' && status === 0) {
    console.error(`\nAdd the new class to migrations/index.ts: the application runs exactly that list.`);
  }
} finally {
  await infra.stop();
}
process.exit(status);
