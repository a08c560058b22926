// Where the time of one transfer goes, on the service side, at low load (1 and 8 in flight by
// default): database statements and the time of each (COMMIT included, which runs the
// deferred checks), the ledger's trigger functions as PostgreSQL times them, the wait in the
// posting queue, Redis round trips, the event loop's busy time and what it was busy with.
//
//   CASHIER_DIST=.bench-dist node bench/ledger/breakdown.mjs
//
// The service runs with bench/support/io-probe.js preloaded (it wraps pg and ioredis and watches
// the event loop; read over IPC), and the run's database with track_functions = 'pl' (so
// pg_stat_user_functions times the trigger functions). Each level: a warm-up, a measured block
// (nothing else running in the service), then a block with V8's CPU profiler on (its top self time
// is printed; the profiler's own cost stays out of the measured block).
//
// Prints the breakdown table and writes bench/results/ledger-breakdown-<timestamp>.json and
// ledger-breakdown-latest.json. See bench/README.md (Ledger).
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuDelta, cpuSnapshot, cpuSplitOf } from '../support/cpu.mjs';
import { closeAllLean } from '../support/lean-socket.mjs';
import { ADMIN_DATABASE_URL, log, onCleanup, prepareRun, runInfo, runMain } from '../support/lifecycle.mjs';
import { writeResults } from '../support/report.mjs';
import { summarize } from '../support/stats.mjs';
import { sleep } from '../support/wait.mjs';
import pg from 'pg';
import {
  benchPool,
  cashierTransfer,
  checkOpenFileLimit,
  counterDelta,
  counterTotals,
  createFundedUsers,
  drive,
  histogramDelta,
  histogramTotals,
  openCashierSockets,
  startCashiers,
  uniformPair,
} from './setup.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PROBE = fileURLToPath(new URL('../support/io-probe.js', import.meta.url));
const PARAMS = {
  /** Fewer than the bench's 1,000: at 1 and 8 in flight two transfers rarely share an account either way. */
  users: Number(process.env.BENCH_USERS ?? 300),
  levels: (process.env.BENCH_LEVELS ?? '1,8').split(',').map(Number),
  poolSize: Number(process.env.BENCH_POOL_SIZE ?? 10),
  /** Once, at 8 in flight, after the idle measurement: as in run.mjs (the service's start-up). */
  startWarmupSeconds: Number(process.env.BENCH_START_WARMUP_SECONDS ?? 20),
  warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? 3),
  blockSeconds: Number(process.env.BENCH_BLOCK_SECONDS ?? 10),
  /** 0 skips the profiled block. */
  profile: process.env.BENCH_PROFILE !== '0',
  /**
   * A backend reports its function statistics at most once a second while busy, and ~10 s after
   * it went idle: waited for before reading pg_stat_user_functions, on both sides of a block.
   */
  functionStatsWaitMs: 11_000,
  /** The service idle (its sockets open, nobody sending), measured first: what it costs per second anyway. */
  idleSeconds: 5,
  /** After a block, the trailing work of its last transfers (bus publish, marking the outbox sent). */
  settleMs: 300,
  currency: 'USD',
  amount: 100n,
  funding: 100_000_000n,
};
const HISTOGRAMS = ['ledger_posting_batch_size', 'ledger_posting_queue_wait_seconds'];
/** The posting queue's transactions by path (one round trip on known states, or reading first). */
const PATHS = 'ledger_posting_batches_total';
const TOP_FUNCTIONS = 15;

/** What a statement is, by its text (fixed texts with parameters), in the order a transaction sends them. */
const WALLET_IDS = 'wallet ids (cached after the first; off the transaction)';
const MARKED_SENT = 'outbox marked sent (batched, every 250 ms; off the path)';
const STATEMENT_KINDS = [
  [/^START TRANSACTION/, 'BEGIN'],
  [/idempotency_keys/, 'idempotency key'],
  [
    /^SELECT \(SELECT state FROM users WHERE id = \$2\) AS recipient_state/,
    'wallets and recipient again (resolveAccounts of a posting alone)',
  ],
  [/FROM accounts a LEFT JOIN users u .*FOR UPDATE/, 'lock accounts (SELECT … FOR UPDATE, or as expected)'],
  [/nextval\(pg_get_serial_sequence\('journals'/, 'journal ids taken ahead (a block of 64)'],
  [/INSERT INTO journals/, 'ledger write (journals, entries, fees, balances)'],
  [/INSERT INTO channel_seq/, 'outbox write (channel_seq, outbox_writes, in beforeTransactionCommit)'],
  [/^COMMIT/, 'COMMIT (deferred journal check, WAL flush)'],
  [/^ROLLBACK/, 'ROLLBACK'],
  [/DELETE FROM outbox_unsent/, MARKED_SENT],
  [/FROM accounts WHERE owner_user_id = ANY/, WALLET_IDS],
];
const kindOf = (text) => STATEMENT_KINDS.find(([re]) => re.test(text))?.[1] ?? `other: ${text.slice(0, 60)}`;

// --- readings ---

/** The trigger functions' calls and times so far (pg_stat_user_functions; ms). */
async function functionStats(db) {
  await db.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await db.query(`SELECT funcname, calls, total_time, self_time FROM pg_stat_user_functions`);
  return Object.fromEntries(
    rows.map((r) => [r.funcname, { calls: Number(r.calls), totalMs: r.total_time, selfMs: r.self_time }]),
  );
}

function functionDelta(before, after) {
  return Object.fromEntries(
    Object.entries(after).map(([name, a]) => {
      const b = before[name] ?? { calls: 0, totalMs: 0, selfMs: 0 };
      return [name, { calls: a.calls - b.calls, totalMs: a.totalMs - b.totalMs, selfMs: a.selfMs - b.selfMs }];
    }),
  );
}

/** Statements grouped by kind: {kind: {count, ms, texts}}. */
function byKind(statements) {
  const kinds = {};
  for (const [text, { count, ms }] of Object.entries(statements)) {
    const kind = kindOf(text);
    kinds[kind] ??= { count: 0, ms: 0, texts: 0 };
    kinds[kind].count += count;
    kinds[kind].ms += ms;
    kinds[kind].texts += 1;
  }
  return kinds;
}

// --- the CPU profile ---

/** Where a function lives: a package, a directory of the service, node itself, or V8's own. */
function areaOf({ url, functionName }) {
  if (!url) return `(${functionName.replace(/[()]/g, '')})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  const src = /\/dist\/(src\/(?:modules|core)\/[^/]+)/.exec(url)?.[1];
  if (src) return `cashier ${src}`;
  if (url.startsWith('node:')) return 'node internals';
  return basename(url);
}

/** Not the service's work: the thread waiting, and V8 outside any JavaScript. */
const NOT_WORK = new Set(['(idle)', '(program)']);

/**
 * Self time (ms) by function and by area, from a .cpuprofile: the top ones, and the total. Each
 * sample counts for the median interval between samples, not for its own: on a busy machine a
 * sample after the process was descheduled carries the whole gap. The first sample (the time
 * before profiling started) and the idle ones do not count.
 */
function summarizeProfile(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const deltas = Float64Array.from(profile.timeDeltas.slice(1)).sort();
  const interval = deltas[Math.floor(deltas.length / 2)] / 1000;
  const selfMs = new Map();
  for (const id of profile.samples.slice(1)) selfMs.set(id, (selfMs.get(id) ?? 0) + interval);
  const functions = new Map();
  const areas = new Map();
  let total = 0;
  for (const [id, ms] of selfMs) {
    const { callFrame } = nodes.get(id);
    if (NOT_WORK.has(callFrame.functionName)) continue;
    const name = `${callFrame.functionName || '(anonymous)'} ${callFrame.url ? `${basename(callFrame.url)}:${callFrame.lineNumber + 1}` : ''}`;
    const area = areaOf(callFrame);
    functions.set(name, { ms: (functions.get(name)?.ms ?? 0) + ms, area });
    areas.set(area, (areas.get(area) ?? 0) + ms);
    total += ms;
  }
  const top = (map, value) =>
    [...map]
      .map(([name, v]) => ({ name, ...value(v) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, TOP_FUNCTIONS);
  return {
    totalMs: total,
    intervalMs: interval,
    functions: top(functions, (v) => v),
    areas: top(areas, (ms) => ({ ms })),
  };
}

// --- the service idle, and one level ---

/** CPU and event loop time per second of the service with its sockets open and no requests. */
async function measureIdle(env) {
  const { cashier } = env;
  await cashier.proc.ask('io-probe:reset', (m) => m?.ioProbe?.reset, 'resetting the probe');
  const before = cpuSnapshot({ cashier: cashier.proc.pid }, { database: env.run.database });
  await sleep(PARAMS.idleSeconds * 1000);
  const probe = await cashier.proc.ask(
    'io-probe:read',
    (m) => m?.ioProbe?.statements && m.ioProbe,
    'reading the probe',
  );
  const cpuMs = cpuDelta(before, cpuSnapshot({ cashier: cashier.proc.pid }, { database: env.run.database }));
  return {
    seconds: probe.seconds,
    cpuMsPerSecond: Object.fromEntries(Object.entries(cpuMs).map(([name, ms]) => [name, ms / probe.seconds])),
    eventLoopMsPerSecond: probe.eventLoop.activeMs / probe.seconds,
    statementsPerSecond: Object.values(probe.statements).reduce((n, s) => n + s.count, 0) / probe.seconds,
    redisPerSecond: Object.values(probe.redis).reduce((n, r) => n + r.count, 0) / probe.seconds,
  };
}

async function measureLevel(env, level, pick) {
  const { cashier, db } = env;
  const transfer = cashierTransfer(PARAMS);
  log(`${level} in flight: warming up`);
  await drive(transfer, pick, { seconds: PARAMS.warmupSeconds, inFlight: level });
  await sleep(PARAMS.functionStatsWaitMs);
  const functionsBefore = await functionStats(db);
  const histogramsBefore = await histogramTotals([cashier], HISTOGRAMS);
  const pathsBefore = await counterTotals([cashier], PATHS);
  await cashier.proc.ask('io-probe:reset', (m) => m?.ioProbe?.reset, 'resetting the probe');
  const cpuBefore = cpuSnapshot({ cashier: cashier.proc.pid }, { database: env.run.database });
  const splitBefore = cpuSplitOf(cashier.proc.pid);
  const block = await drive(transfer, pick, { seconds: PARAMS.blockSeconds, inFlight: level });
  await sleep(PARAMS.settleMs);
  const probe = await cashier.proc.ask(
    'io-probe:read',
    (m) => m?.ioProbe?.statements && m.ioProbe,
    'reading the probe',
  );
  const cpuMs = cpuDelta(cpuBefore, cpuSnapshot({ cashier: cashier.proc.pid }, { database: env.run.database }));
  const splitAfter = cpuSplitOf(cashier.proc.pid);
  const cashierSplitMs = { user: splitAfter.user - splitBefore.user, system: splitAfter.system - splitBefore.system };
  const histograms = histogramDelta(histogramsBefore, await histogramTotals([cashier], HISTOGRAMS));
  const paths = counterDelta(pathsBefore, await counterTotals([cashier], PATHS));
  log(
    `${level} in flight: ${Math.round(block.acked / block.seconds)} transfers/s; waiting for the function statistics`,
  );
  await sleep(PARAMS.functionStatsWaitMs);
  const functions = functionDelta(functionsBefore, await functionStats(db));

  let profile;
  if (PARAMS.profile) {
    const path = join(env.profileDir, `level-${level}.cpuprofile`);
    await cashier.proc.ask({ ioProbe: 'profile-start' }, (m) => m?.ioProbe?.profiling, 'starting the profiler');
    const profiled = await drive(transfer, pick, { seconds: PARAMS.blockSeconds, inFlight: level });
    await cashier.proc.ask(
      { ioProbe: 'profile-stop', path },
      (m) => m?.ioProbe?.profile,
      'stopping the profiler',
      60_000,
    );
    profile = { ...summarizeProfile(JSON.parse(await readFile(path, 'utf8'))), transfers: profiled.acked };
  }
  return {
    inFlight: level,
    acked: block.acked,
    seconds: block.seconds,
    perSecond: block.acked / block.seconds,
    latency: summarize(block.latencies),
    refusals: block.refusals,
    statements: probe.statements,
    kinds: byKind(probe.statements),
    checkouts: probe.checkouts,
    redis: probe.redis,
    eventLoop: probe.eventLoop,
    probeSeconds: probe.seconds,
    cpuMs,
    cashierSplitMs,
    histograms,
    paths,
    functions,
    profile,
  };
}

// --- the table ---

const f = (x, digits = 2) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));

/** One line per figure, one column per level: per transfer, and per call where it is a round trip. */
function breakdownTable(levels, idle) {
  const head = `| per transfer | ${levels.map((l) => `${l.inFlight} in flight`).join(' | ')} |`;
  const lines = [head, `| --- | ${levels.map(() => '---:').join(' | ')} |`];
  const row = (label, cell) => lines.push(`| ${label} | ${levels.map(cell).join(' | ')} |`);
  const per = (l, n) => n / l.acked;
  const calls = (n, ms) => (n > 0 ? `${f(n)} × ${f(ms / n, 3)} ms` : '–');

  row('transfers/s (acknowledged)', (l) => f(l.perSecond, 0));
  row('ack latency p50 / mean', (l) => `${f(l.latency.p50)} / ${f(l.latency.mean)} ms`);
  const batch = (l) => l.histograms.ledger_posting_batch_size;
  const wait = (l) => l.histograms.ledger_posting_queue_wait_seconds;
  row('postings per transaction (batch size)', (l) => f(batch(l).sum / batch(l).count, 1));
  const waitMs = (l) => (1000 * wait(l).sum) / wait(l).count;
  row('posting queue wait, mean', (l) => `${f(waitMs(l), 3)} ms`);
  row('transactions by path: expected (one round trip) / read / expected but out of date', (l) =>
    ['expected', 'read', 'expected_missed'].map((path) => f(l.paths[path] ?? 0, 0)).join(' / '),
  );
  // The mean acknowledgement, cut along its path: the rate limit's Redis round trip (before the
  // handler), the queue, the pool checkout, and the rest: the transaction (its statements go out
  // pipelined, so their times, listed below, overlap and do not add up to it), the event loop's
  // work, socket I/O and waiting to be scheduled.
  const rateLimitMs = (l) => {
    const r = Object.entries(l.redis).find(([name]) => name.startsWith('pipeline(evalsha'))?.[1];
    return r ? r.ms / r.count : 0;
  };
  const checkoutMs = (l) => l.checkouts.ms / l.checkouts.count;
  row('ack mean, along its path: rate limit (Redis) + queue wait + pool checkout + transaction and the rest', (l) => {
    const rest = l.latency.mean - rateLimitMs(l) - waitMs(l) - checkoutMs(l);
    const parts = [rateLimitMs(l), waitMs(l), checkoutMs(l), rest].map((x) => f(x));
    return `${f(l.latency.mean)} = ${parts.join(' + ')} ms`;
  });
  row(
    '**PostgreSQL statements** (n × mean ms from call to answer; one round trip per transaction on the known-state path, where they are pipelined and overlap)',
    (l) =>
      `**${f(
        per(
          l,
          Object.values(l.kinds).reduce((n, k) => n + k.count, 0),
        ),
      )}**`,
  );
  row('pool checkout (no round trip unless it connects)', (l) =>
    calls(per(l, l.checkouts.count), per(l, l.checkouts.ms)),
  );
  const kinds = [...new Set(levels.flatMap((l) => Object.keys(l.kinds)))];
  const order = STATEMENT_KINDS.map(([, name]) => name);
  kinds.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
  for (const kind of kinds) {
    row(`— ${kind}`, (l) => (l.kinds[kind] ? calls(per(l, l.kinds[kind].count), per(l, l.kinds[kind].ms)) : '–'));
  }
  const statementMs = (l) =>
    per(
      l,
      Object.values(l.kinds).reduce((ms, k) => ms + k.ms, 0),
    );
  row(
    'time in statements (sum over the transaction ÷ its postings; overlapping when pipelined)',
    (l) => `${f(statementMs(l), 3)} ms`,
  );
  const names = [...new Set(levels.flatMap((l) => Object.keys(l.functions)))].filter((name) =>
    levels.some((l) => l.functions[name]?.calls > 0),
  );
  for (const name of names) {
    row(`trigger ${name}() in PostgreSQL (calls × self ms)`, (l) => {
      const fn = l.functions[name];
      return fn?.calls > 0 ? calls(per(l, fn.calls), per(l, fn.selfMs)) : '–';
    });
  }
  const redisTotal = (l) => Object.values(l.redis).reduce((n, r) => n + r.count, 0);
  row('**Redis round trips** (commands on their own + pipelines)', (l) => `**${f(per(l, redisTotal(l)))}**`);
  const commands = [...new Set(levels.flatMap((l) => Object.keys(l.redis)))].sort();
  for (const name of commands) {
    row(`— ${name}`, (l) => (l.redis[name] ? calls(per(l, l.redis[name].count), per(l, l.redis[name].ms)) : '–'));
  }
  row('event loop utilization', (l) => `${f(100 * l.eventLoop.utilization, 1)} %`);
  // Net of idle: what the service spends per second with nobody sending (sockets' pings, timers).
  const net = (l, ms, perSecond) => `${f(per(l, ms), 3)} (${f(per(l, ms - perSecond * l.seconds), 3)}) ms`;
  row('event loop busy per transfer (net of idle)', (l) => net(l, l.eventLoop.activeMs, idle.eventLoopMsPerSecond));
  row('event loop delay p50 / p99', (l) => `${f(l.eventLoop.delayMs.p50)} / ${f(l.eventLoop.delayMs.p99)} ms`);
  row('CPU per transfer: service process (net of idle)', (l) => net(l, l.cpuMs.cashier, idle.cpuMsPerSecond.cashier));
  row(
    '— of which in the kernel (system time: sockets, syscalls)',
    (l) => `${f(per(l, l.cashierSplitMs.system), 3)} ms`,
  );
  row("CPU per transfer: PostgreSQL, this database and the server's own processes (net of idle)", (l) =>
    net(l, l.cpuMs.postgres, idle.cpuMsPerSecond.postgres),
  );
  row('CPU per transfer: Redis, shared with everything else on it (net of idle)', (l) =>
    net(l, l.cpuMs.redis, idle.cpuMsPerSecond.redis),
  );
  return lines.join('\n');
}

function profileTable(levels) {
  const out = [];
  for (const l of levels.filter((x) => x.profile)) {
    const { profile } = l;
    const per = (ms) => f(ms / profile.transfers, 3);
    out.push(
      `CPU profile at ${l.inFlight} in flight (a block of its own): ${f(profile.totalMs, 0)} ms of JavaScript, GC and native ` +
        `calls over ${profile.transfers} transfers (${per(profile.totalMs)} ms each; samples every ${f(profile.intervalMs, 2)} ms)`,
      '',
      '| area | self ms per transfer | share |',
      '| --- | ---: | ---: |',
      ...profile.areas.map((a) => `| ${a.name} | ${per(a.ms)} | ${f((100 * a.ms) / profile.totalMs, 1)} % |`),
      '',
      '| function | area | self ms per transfer |',
      '| --- | --- | ---: |',
      ...profile.functions.map((fn) => `| \`${fn.name.trim()}\` | ${fn.area} | ${per(fn.ms)} |`),
      '',
    );
  }
  return out.join('\n');
}

async function main(abort) {
  const startedAt = new Date().toISOString();
  checkOpenFileLimit(PARAMS.users + 500, `${PARAMS.users} sockets`);
  const run = await prepareRun(ROOT);
  log(`run ${run.redisPrefix}: dist ${run.dist}`);
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${run.database} SET track_functions = 'pl'`);
  await admin.end();
  // The profiles are kept where BENCH_PROFILE_DIR says (open them in Chrome's DevTools), else removed.
  const profileDir = process.env.BENCH_PROFILE_DIR ?? (await mkdtemp(join(tmpdir(), 'cashier-breakdown-')));
  if (!process.env.BENCH_PROFILE_DIR) {
    onCleanup('remove profile dir', () => rm(profileDir, { recursive: true, force: true }));
  } else {
    await mkdir(profileDir, { recursive: true });
  }

  const [cashier] = await startCashiers(run, {
    instances: 1,
    poolSize: PARAMS.poolSize,
    log,
    abort,
    nodeArgs: ['--require', PROBE],
  });
  const db = benchPool(run);
  const { users } = await createFundedUsers(cashier.url, run, {
    count: PARAMS.users,
    currency: PARAMS.currency,
    funding: PARAMS.funding,
    log,
  });
  log(`opening ${PARAMS.users} sockets`);
  const sockets = await openCashierSockets([cashier], users);
  onCleanup('close sockets', () => closeAllLean(sockets));

  const env = { run, cashier, db, profileDir };
  const loadAtStart = loadavg()[0];
  await sleep(PARAMS.settleMs * 10); // the sign-ups' and connections' trailing work
  log(`the service idle for ${PARAMS.idleSeconds} s`);
  const idle = await measureIdle(env);
  if (PARAMS.startWarmupSeconds > 0) {
    log(`warming up: ${PARAMS.startWarmupSeconds} s at 8 in flight`);
    await drive(cashierTransfer(PARAMS), uniformPair(users), { seconds: PARAMS.startWarmupSeconds, inFlight: 8 });
  }
  const levels = [];
  for (const level of PARAMS.levels) levels.push(await measureLevel(env, level, uniformPair(users)));
  const load = { start: loadAtStart, end: loadavg()[0] };

  process.stdout.write(`${breakdownTable(levels, idle)}\n\n${profileTable(levels)}\n`);
  process.stdout.write(
    `${cpus().length} CPUs, ${PARAMS.users} users, pool of ${PARAMS.poolSize}; 1-minute load average ${load.start.toFixed(2)} ` +
      `at the start, ${load.end.toFixed(2)} at the end; service started as \`node ${[...cashier.nodeArgs, '<dist>/src/main.js'].join(' ')}\`\n`,
  );
  const results = {
    run: runInfo(startedAt, run.dist, load),
    params: {
      ...PARAMS,
      amount: Number(PARAMS.amount),
      funding: Number(PARAMS.funding),
      cashierNodeArgs: cashier.nodeArgs,
    },
    cashier_log_warnings: cashier.warnings,
    idle,
    levels,
  };
  const path = await writeResults(join(ROOT, 'bench/results'), 'ledger-breakdown', results);
  log(`results: ${path}`);
}

await runMain(main);
