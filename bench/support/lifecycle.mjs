// What every bench run shares: a log on stderr, a clean-up list undone in reverse order, the run's
// own database, Redis prefix, secret and configuration, and one way to end (success, a failure
// anywhere, or Ctrl-C) that always cleans up.
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchConfigDir, createDatabase, deleteRedisKeys, dropDatabase } from './infra.mjs';
import { msSince } from './stats.mjs';

export const ADMIN_DATABASE_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const started = process.hrtime.bigint();

export const elapsedSeconds = () => msSince(started) / 1000;

/** What every results file says about its run: when, how long, on what, under what load. */
export const runInfo = (startedAt, dist, load) => ({
  started_at: startedAt,
  seconds: elapsedSeconds(),
  dist,
  node: process.version,
  cpus: cpus().length,
  load_average_1m: load,
});

export const log = (line) => process.stderr.write(`[bench +${elapsedSeconds().toFixed(1)}s] ${line}\n`);

const undo = [];

/** Registers the undo of something the run made; undone in reverse order at the end. */
export const onCleanup = (what, fn) => undo.push({ what, fn });

async function cleanUp() {
  let ok = true;
  while (undo.length > 0) {
    const { what, fn } = undo.pop();
    try {
      await fn();
    } catch (error) {
      ok = false;
      log(`clean-up failed: ${what}: ${error.message}`);
    }
  }
  return ok;
}

/**
 * A server process the run started (`started.proc`): stopped at clean-up, and its death ends the
 * run through `abort`. Returns `started`.
 */
export function keepRunning(what, started, abort) {
  onCleanup(`stop ${what}`, () => started.proc.stop());
  started.proc.died.catch(abort);
  return started;
}

/** The compiled tree to run: CASHIER_DIST (default dist), relative to the repository. */
function distDir(root) {
  const dist = resolve(root, process.env.CASHIER_DIST ?? 'dist');
  if (!existsSync(join(dist, 'src/main.js'))) {
    throw new Error(`${dist}/src/main.js not found: build first, or set CASHIER_DIST to the compiled tree`);
  }
  return dist;
}

/** The run's own database, Redis prefix, secret and configuration, each removed at the end. */
export async function prepareRun(root) {
  const dist = distDir(root);
  const id = randomBytes(4).toString('hex');
  const database = `cashier_bench_${id}`;
  const databaseUrl = await createDatabase(ADMIN_DATABASE_URL, database);
  onCleanup(`drop database ${database}`, () => dropDatabase(ADMIN_DATABASE_URL, database));
  const redisPrefix = `bench-${id}`;
  onCleanup(`delete Redis keys ${redisPrefix}:*`, async () =>
    log(`deleted ${await deleteRedisKeys(REDIS_URL, redisPrefix)} Redis keys`),
  );
  const config = await benchConfigDir(join(root, 'config'));
  onCleanup('remove temp config dir', config.remove);
  return {
    root,
    dist,
    database,
    databaseUrl,
    redisUrl: REDIS_URL,
    redisPrefix,
    jwtSecret: randomBytes(32).toString('hex'),
    configDir: config.dir,
  };
}

/**
 * Runs `main(abort)` and exits: 0 when it measured, non-zero when it could not. `abort(error)`
 * ends the run from outside the awaited flow (a server process that died); so do Ctrl-C and any
 * unhandled rejection. After the first, later ones are ignored: they come from the abandoned
 * flow tripping over connections the clean-up closed.
 */
export async function runMain(main) {
  let abort;
  const stopped = new Promise((_, reject) => {
    abort = reject;
  });
  process.once('SIGINT', () => abort(Object.assign(new Error('interrupted'), { exitCode: 130 })));
  process.on('unhandledRejection', abort);
  process.on('uncaughtException', abort);

  let exitCode = 0;
  try {
    await Promise.race([main(abort), stopped]);
  } catch (error) {
    exitCode = error?.exitCode ?? 1;
    log(exitCode === 130 ? 'interrupted: cleaning up' : `failed: ${error?.stack ?? error}`);
  }
  if (!(await cleanUp()) && exitCode === 0) exitCode = 1;
  log(`done in ${elapsedSeconds().toFixed(1)} s`);
  process.exit(exitCode);
}
