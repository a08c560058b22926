// What the realtime and plain-WebSocket benches share: the run (its database, Redis prefix and
// processes: the service, a bare server, a publisher on each side), the users, the three
// scenarios in order, the warning about unexpected frames, the table and the results file. Each
// bench brings its bare server, its scenarios and its rows.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createPublisher, createUsers, startCashier } from './cashier.mjs';
import { checkOpenFileLimit } from './measure.mjs';
import { keepRunning, log, onCleanup, prepareRun, runInfo, runMain } from './lifecycle.mjs';
import { loadLine, markdownTable, writeResults } from './report.mjs';

/** Frames nobody waited for mean a duplicate or a stray delivery: worth a look, not a failure. */
function warnOfUnexpectedFrames(m) {
  for (const [scenario, sides] of [
    ['1 subscriber', m.oneSubscriber],
    ['fan-out', m.fanOut],
  ]) {
    for (const side of ['cashier', 'bare']) {
      const count = sides[side].unexpectedFrames;
      if (count > 0) log(`warning: ${scenario}, ${side}: ${count} frames that were not the awaited event`);
    }
  }
}

/**
 * Runs a latency bench to its results file. `bench`: `name` (of the results file), `root`,
 * `minOpenFiles`, `password` and `idleUsers` (users signed up besides the publishing one),
 * `startBare(run)` and `createEmitter(run)` (the bare side's server and publisher), `scenarios`
 * ({oneSubscriber, fanOut, idleSockets}: each `(env) => measurement`), `rows(measurements)` and
 * `params` (recorded in the results).
 */
export function runLatencyBench(bench) {
  return runMain(async (abort) => {
    const startedAt = new Date().toISOString();
    checkOpenFileLimit(bench.minOpenFiles, '5,000 sockets');
    const run = await prepareRun(bench.root);
    log(`run ${run.redisPrefix}: dist ${run.dist}`);

    const cashier = keepRunning('cashier', await startCashier(run, { log }), abort);
    const bare = keepRunning('bare server', await bench.startBare(run), abort);
    const publisher = await createPublisher(run);
    onCleanup('close publisher', publisher.close);
    const emitter = bench.createEmitter(run);
    onCleanup('close bare emitter', emitter.close);

    log(`creating ${1 + bench.idleUsers} users`);
    const [user, ...idleUsers] = await createUsers(cashier.url, run.redisPrefix, 1 + bench.idleUsers, {
      password: bench.password,
    });
    const env = { run, cashier, bare, publisher, emitter, user, idleUsers };

    const loadAtStart = loadavg()[0];
    const measurements = {
      oneSubscriber: await bench.scenarios.oneSubscriber(env),
      fanOut: await bench.scenarios.fanOut(env),
      idleSockets: await bench.scenarios.idleSockets(env),
    };
    warnOfUnexpectedFrames(measurements);
    const rows = bench.rows(measurements);
    const load = { start: loadAtStart, end: loadavg()[0] };
    const results = {
      run: runInfo(startedAt, run.dist, load),
      params: { ...bench.params, cashierNodeArgs: cashier.nodeArgs },
      cashier_log_warnings: cashier.warnings,
      measurements,
      rows,
    };
    process.stdout.write(`${markdownTable(rows)}\n\n${loadLine(load)}\n`);
    const path = await writeResults(join(bench.root, 'bench/results'), bench.name, results);
    log(`results: ${path}`);
  });
}
