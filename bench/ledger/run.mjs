// Ledger benchmark: acknowledged transfers per second through the service (socket.io `transfer`
// request → posting → outbox → ack) against the same posting sent as one raw SQL statement, in one
// run, on the same machine and database.
//
//   CASHIER_DIST=.bench-dist node bench/ledger/run.mjs
//
// 1. uniform: each transfer from a random user to another random user, over 1,000 users
// 2. hot receiver: every transfer into one user, from the other 999
// Each scenario runs cashier and raw SQL in alternating blocks (ABBA), `inFlight` transfers in
// flight at all times. Afterwards the ledger must hold: the admin ledger check finds no problem,
// and every wallet and the fee accounts hold exactly what the acknowledged transfers predict.
//
// Prints a markdown table and writes bench/results/ledger-<timestamp>.json and ledger-latest.json.
// Exits 0 when it measured (a missed target is a result, not an error), non-zero when it could not
// or when the ledger is wrong afterwards. See bench/README.md.
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createUsers, fundUsers, getJson, logIn, startCashier } from '../support/cashier.mjs';
import { cpuDelta, cpuSnapshot } from '../support/cpu.mjs';
import { closeAllLean, openManyLean } from '../support/lean-socket.mjs';
import { createRawLedger } from '../support/ledger-sql.mjs';
import { log, onCleanup, prepareRun, runInfo, runMain } from '../support/lifecycle.mjs';
import { contextRow, judgedRow, markdownTable, writeResults } from '../support/report.mjs';
import { msSince, summarize } from '../support/stats.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PARAMS = {
  users: Number(process.env.BENCH_USERS ?? 1000),
  /**
   * Transfers in flight at once, on both sides: enough to keep both CPUs busy. The service batches
   * what queues while a transaction runs, so with 64 its throughput was bound by latency (~860/s,
   * batches of ~17); from 256 on it is bound by CPU (~1,300-1,450/s; 512 measured the same).
   */
  inFlight: Number(process.env.BENCH_IN_FLIGHT ?? 256),
  /** Service processes (ROLE=api) sharing the database and Redis; users' sockets spread over them. */
  instances: Number(process.env.BENCH_INSTANCES ?? 1),
  /** Connections of each service's pool (DATABASE_POOL_SIZE) and of the raw SQL pool. */
  poolSize: Number(process.env.BENCH_POOL_SIZE ?? 10),
  /** Per side before each scenario; the first measured block ran ~10 % slow after 2. */
  warmupSeconds: 4,
  /** Measured seconds per block; each side runs 2 blocks per scenario (cashier, raw, raw, cashier). */
  blockSeconds: Number(process.env.BENCH_BLOCK_SECONDS ?? 5),
  currency: 'USD',
  /** Per transfer, in minor units: 1.00 USD, and its 2 % fee (config/fees.json). */
  amount: 100n,
  fee: 2n,
  /** Each user's opening balance, in minor units (1,000,000.00 USD): no transfer can fail for lack of funds. */
  funding: 100_000_000n,
};
const TARGETS = { ratioToRaw: 0.5, uniformPerSecond: 2000, hotToUniform: 0.5 };
const ADMIN = { email: 'bench-admin@bench.example.com', password: 'bench-admin-password-1234' };
const PASSWORD = 'bench-password-1234';
const MIN_OPEN_FILES = 2 * PARAMS.users + 500;
const HOT_ACCOUNT_SHARDS = 8; // src/modules/accounts/accounts.service.ts

/** Linux only (/proc); elsewhere a low limit shows up as failed connects instead. */
function checkOpenFileLimit() {
  if (!existsSync('/proc/self/limits')) return;
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
  if (soft && soft !== 'unlimited' && Number(soft) < MIN_OPEN_FILES) {
    throw new Error(
      `open file limit is ${soft}; ${PARAMS.users} sockets need ${MIN_OPEN_FILES}: run \`ulimit -n 20000\` first`,
    );
  }
}

// --- set-up: users, their funds, their sockets, and the account ids the raw side posts to ---

/** Wallet ids of the users and the fee account shards, read from the database. */
async function accountIds(db, users) {
  const { rows: wallets } = await db.query(
    `SELECT owner_user_id, id FROM accounts WHERE kind = 'user_wallet' AND currency = $1`,
    [PARAMS.currency],
  );
  const walletOf = new Map(wallets.map((r) => [String(r.owner_user_id), String(r.id)]));
  for (const user of users) {
    user.walletId = walletOf.get(user.id);
    if (!user.walletId) throw new Error(`user ${user.id} has no ${PARAMS.currency} wallet`);
  }
  const { rows: shards } = await db.query(
    `SELECT shard, id FROM accounts WHERE kind = 'fee_revenue' AND currency = $1 ORDER BY shard`,
    [PARAMS.currency],
  );
  if (shards.length !== HOT_ACCOUNT_SHARDS) {
    throw new Error(`expected ${HOT_ACCOUNT_SHARDS} fee shards, found ${shards.length}`);
  }
  return shards.map((r) => String(r.id));
}

// --- measurement ---

/**
 * What the acknowledged transfers did, in minor units per wallet id, and to the fee accounts
 * together (the service picks a shard per transaction): checked at the end.
 */
const expectedDelta = new Map();
const FEES = 'fee shards';
const addDelta = (key, delta) => expectedDelta.set(key, (expectedDelta.get(key) ?? 0n) + delta);

function record(from, to) {
  addDelta(from.walletId, -(PARAMS.amount + PARAMS.fee));
  addDelta(to.walletId, PARAMS.amount);
  addDelta(FEES, PARAMS.fee);
}

/**
 * A transfer through the service: the `transfer` request on the sender's socket, until its ack
 * (the lean socket rejects it after 30 s without one).
 */
function cashierSide() {
  const amount = Number(PARAMS.amount) / 100;
  return {
    name: 'cashier',
    async transfer(from, to) {
      const reply = await from.socket.emitWithAck('transfer', { to_user_id: to.id, amount, currency: PARAMS.currency });
      if (reply?.type !== 'success') return reply?.data?.code ?? 'BAD_ACK';
      record(from, to);
      return undefined;
    },
  };
}

/** The same transfer as one raw SQL statement, fee on the shard the service would pick. */
function rawSide(env) {
  return {
    name: 'raw SQL',
    async transfer(from, to) {
      const feeId = env.feeIds[Number(from.walletId) % HOT_ACCOUNT_SHARDS];
      try {
        await env.raw.transfer({
          fromId: from.walletId,
          toId: to.walletId,
          feeId,
          userId: from.id,
          amount: PARAMS.amount,
          fee: PARAMS.fee,
          currency: PARAMS.currency,
        });
      } catch (error) {
        return error.code ?? error.message;
      }
      record(from, to);
      return undefined;
    },
  };
}

/**
 * Keeps `inFlight` transfers going for `seconds`, each one on a pair from `pick()`; returns the
 * acknowledged ones per second, their latencies and the refusals by code.
 */
async function drive(side, pick, seconds) {
  const latencies = [];
  const refusals = {};
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  const worker = async () => {
    while (process.hrtime.bigint() < deadline) {
      const [from, to] = pick();
      const sent = process.hrtime.bigint();
      const refused = await side.transfer(from, to);
      if (refused) refusals[refused] = (refusals[refused] ?? 0) + 1;
      else latencies.push(msSince(sent));
    }
  };
  await Promise.all(Array.from({ length: PARAMS.inFlight }, worker));
  const elapsed = msSince(started) / 1000;
  return { acked: latencies.length, seconds: elapsed, latencies, refusals };
}

/** The posting queues' batch-size histograms (sum, count) from the services' /metrics, added up. */
async function batchCounters(cashiers) {
  const totals = { sum: 0, count: 0 };
  for (const { url } of cashiers) {
    const text = await (await globalThis.fetch(`${url}/metrics`)).text();
    const read = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    totals.sum += read('ledger_posting_batch_size_sum');
    totals.count += read('ledger_posting_batch_size_count');
  }
  return totals;
}

/** CPU ms so far by process group; the service processes together. */
function cpuOf(env) {
  const pids = Object.fromEntries(env.cashiers.map((c, i) => [`cashier${i}`, c.proc.pid]));
  const { bench, postgres, redis, ...services } = cpuSnapshot({ ...pids, bench: 'self' });
  return { cashier: Object.values(services).reduce((a, b) => a + b, 0), postgres, redis, bench };
}

function merge(blocks) {
  const latencies = blocks.flatMap((b) => b.latencies);
  const seconds = blocks.reduce((s, b) => s + b.seconds, 0);
  const refusals = {};
  for (const b of blocks) {
    for (const [code, n] of Object.entries(b.refusals)) refusals[code] = (refusals[code] ?? 0) + n;
  }
  const cpuMsPerTransfer = {};
  for (const name of Object.keys(blocks[0].cpuMs)) {
    cpuMsPerTransfer[name] = blocks.reduce((ms, b) => ms + b.cpuMs[name], 0) / latencies.length;
  }
  const batches = blocks.reduce((n, b) => n + (b.batches?.count ?? 0), 0);
  const postings = blocks.reduce((n, b) => n + (b.batches?.sum ?? 0), 0);
  return {
    acked: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    postingsPerTransaction: batches > 0 ? postings / batches : undefined,
    cpuMsPerTransfer,
    latency: summarize(latencies),
    refusals,
    blocksPerSecond: blocks.map((b) => b.acked / b.seconds),
  };
}

/** Warms both sides up, then runs them in blocks: cashier, raw, raw, cashier. */
async function scenario(name, env, pick) {
  const sides = [cashierSide(), rawSide(env)];
  log(`${name}: warming up`);
  for (const side of sides) await drive(side, pick, PARAMS.warmupSeconds);
  const blocks = { cashier: [], 'raw SQL': [] };
  for (const side of [sides[0], sides[1], sides[1], sides[0]]) {
    const before = side === sides[0] ? await batchCounters(env.cashiers) : undefined;
    const cpuBefore = cpuOf(env);
    const block = await drive(side, pick, PARAMS.blockSeconds);
    const cpuAfter = cpuOf(env);
    block.cpuMs = cpuDelta(cpuBefore, cpuAfter);
    if (before) {
      const after = await batchCounters(env.cashiers);
      block.batches = { sum: after.sum - before.sum, count: after.count - before.count };
    }
    log(`${name}: ${side.name}: ${Math.round(block.acked / block.seconds)} transfers/s`);
    blocks[side.name].push(block);
  }
  return { cashier: merge(blocks.cashier), raw: merge(blocks['raw SQL']) };
}

const randomIndex = (n) => Math.floor(Math.random() * n);

function uniformPair(users) {
  return () => {
    const from = randomIndex(users.length);
    const to = (from + 1 + randomIndex(users.length - 1)) % users.length;
    return [users[from], users[to]];
  };
}

function hotPair(users) {
  const [receiver, ...senders] = users;
  return () => [senders[randomIndex(senders.length)], receiver];
}

// --- after: the ledger must hold ---

async function verifyLedger(env, opening) {
  const check = await getJson(env.cashier.url, '/api/v1/admin/ledger/check', env.adminToken);
  const wallets = [...expectedDelta.keys()].filter((key) => key !== FEES);
  const { rows } = await env.db.query(`SELECT id, balance FROM accounts WHERE id = ANY($1::bigint[])`, [
    [...wallets, ...env.feeIds],
  ]);
  const balances = new Map(rows.map((r) => [String(r.id), BigInt(r.balance)]));
  const sumOf = (ids, map) => ids.reduce((sum, id) => sum + map.get(id), 0n);
  const actual = [
    ...wallets.map((id) => [id, balances.get(id), opening.get(id)]),
    [FEES, sumOf(env.feeIds, balances), sumOf(env.feeIds, opening)],
  ];
  const wrong = [];
  for (const [key, balance, before] of actual) {
    const expected = before + expectedDelta.get(key);
    if (balance !== expected) wrong.push({ account: key, balance: String(balance), expected: String(expected) });
  }
  return { check, accounts: actual.length, wrongBalances: wrong };
}

async function openingBalances(db) {
  const { rows } = await db.query(`SELECT id, balance FROM accounts`);
  return new Map(rows.map((r) => [String(r.id), BigInt(r.balance)]));
}

// --- the run ---

function tableRows(m) {
  const { uniform, hot } = m;
  const perSecond = (x) => x.perSecond;
  const ratio = TARGETS.ratioToRaw;
  return [
    judgedRow(
      `uniform, ${PARAMS.users.toLocaleString('en-US')} users: throughput`,
      'transfers/s',
      perSecond(uniform.cashier),
      perSecond(uniform.raw),
      `≥ ${ratio}× raw and ≥ ${TARGETS.uniformPerSecond.toLocaleString('en-US')}/s`,
      uniform.cashier.perSecond >= ratio * uniform.raw.perSecond &&
        uniform.cashier.perSecond >= TARGETS.uniformPerSecond,
    ),
    contextRow('uniform: latency p50', 'ms', uniform.cashier.latency.p50, uniform.raw.latency.p50),
    contextRow('uniform: latency p99', 'ms', uniform.cashier.latency.p99, uniform.raw.latency.p99),
    contextRow('uniform: batch size', 'transfers per transaction', uniform.cashier.postingsPerTransaction, 1),
    judgedRow(
      'hot receiver: throughput',
      'transfers/s',
      perSecond(hot.cashier),
      perSecond(hot.raw),
      `≥ ${TARGETS.hotToUniform}× cashier uniform (${Math.round(TARGETS.hotToUniform * uniform.cashier.perSecond).toLocaleString('en-US')}/s)`,
      hot.cashier.perSecond >= TARGETS.hotToUniform * uniform.cashier.perSecond,
    ),
    contextRow('hot receiver: latency p50', 'ms', hot.cashier.latency.p50, hot.raw.latency.p50),
    contextRow('hot receiver: latency p99', 'ms', hot.cashier.latency.p99, hot.raw.latency.p99),
    contextRow('hot receiver: batch size', 'transfers per transaction', hot.cashier.postingsPerTransaction, 1),
  ];
}

/** Where the CPU went: ms per acknowledged transfer, by process group ("bench" is the load generator: its lean sockets). */
function cpuTable(m) {
  const groups = ['cashier', 'postgres', 'redis', 'bench'];
  const lines = [
    `| CPU ms per transfer | ${groups.join(' | ')} | total |`,
    `| --- | ${groups.map(() => '---:').join(' | ')} | ---: |`,
  ];
  for (const [scenario, sides] of Object.entries(m)) {
    for (const [side, result] of Object.entries(sides)) {
      const cpu = result.cpuMsPerTransfer;
      const total = groups.reduce((sum, g) => sum + cpu[g], 0);
      lines.push(
        `| ${scenario}, ${side} | ${groups.map((g) => cpu[g].toFixed(3)).join(' | ')} | ${total.toFixed(3)} |`,
      );
    }
  }
  return lines.join('\n');
}

async function main(abort) {
  const startedAt = new Date().toISOString();
  checkOpenFileLimit();
  const run = await prepareRun(ROOT);
  log(`run ${run.redisPrefix}: dist ${run.dist}`);

  const cashiers = [];
  for (let i = 0; i < PARAMS.instances; i++) {
    const instance = await startCashier(run, {
      log,
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, DATABASE_POOL_SIZE: String(PARAMS.poolSize) },
    });
    onCleanup(`stop cashier ${i}`, () => instance.proc.stop());
    instance.proc.died.catch(abort);
    cashiers.push(instance);
  }
  const [cashier] = cashiers;
  const db = new pg.Pool({ connectionString: run.databaseUrl, max: 2 });
  onCleanup('close bench database pool', () => db.end());
  const raw = createRawLedger(run.databaseUrl, PARAMS.poolSize);
  onCleanup('close raw SQL pool', raw.close);

  log(`creating ${PARAMS.users} users`);
  const users = await createUsers(cashier.url, run.redisPrefix, PARAMS.users, { password: PASSWORD, log });
  const adminToken = await logIn(cashier.url, ADMIN.email, ADMIN.password);
  log(`funding ${PARAMS.users} users`);
  await fundUsers(cashier.url, adminToken, users, PARAMS.currency, (PARAMS.funding / 100n).toString());
  const feeIds = await accountIds(db, users);
  log(`opening ${PARAMS.users} sockets`);
  const { sockets } = await openManyLean(
    (i) => cashiers[i % cashiers.length].url,
    users.length,
    (i) => ({ auth: { token: users[i].token }, readyEvent: 'connected' }),
  );
  onCleanup('close sockets', () => closeAllLean(sockets));
  for (const [i, user] of users.entries()) user.socket = sockets[i];

  const env = { run, cashier, cashiers, db, raw, feeIds, adminToken };
  const opening = await openingBalances(db);
  const loadAtStart = loadavg()[0];
  const measurements = {
    uniform: await scenario('uniform', env, uniformPair(users)),
    hot: await scenario('hot receiver', env, hotPair(users)),
  };
  const load = { start: loadAtStart, end: loadavg()[0] };
  log('verifying the ledger');
  const ledger = await verifyLedger(env, opening);
  const rows = tableRows(measurements);
  const omit = ({ latencies: _latencies, ...rest }) => rest;
  const results = {
    run: runInfo(startedAt, run.dist, load),
    params: {
      ...PARAMS,
      amount: Number(PARAMS.amount),
      fee: Number(PARAMS.fee),
      funding: Number(PARAMS.funding),
      cashierNodeArgs: cashier.nodeArgs,
    },
    targets: TARGETS,
    cashier_log_warnings: cashier.warnings,
    measurements: {
      uniform: { cashier: omit(measurements.uniform.cashier), raw: omit(measurements.uniform.raw) },
      hot: { cashier: omit(measurements.hot.cashier), raw: omit(measurements.hot.raw) },
    },
    ledger,
    rows,
  };
  process.stdout.write(`${markdownTable(rows, { baseline: 'raw SQL' })}\n\n`);
  process.stdout.write(`${cpuTable(measurements)}\n\n`);
  const ok = ledger.check.balanced && ledger.wrongBalances.length === 0;
  process.stdout.write(
    `ledger after the run: admin check ${ledger.check.balanced ? 'finds no problem' : `finds ${ledger.check.problems.length} problems`}, ` +
      `${ledger.accounts - ledger.wrongBalances.length} of ${ledger.accounts} wallets (and the fee shards together) hold exactly the predicted balance\n`,
  );
  for (const [name, m] of Object.entries(measurements)) {
    for (const side of ['cashier', 'raw']) {
      if (Object.keys(m[side].refusals).length > 0) {
        process.stdout.write(`refused (${name}, ${side}): ${JSON.stringify(m[side].refusals)}\n`);
      }
    }
  }
  process.stdout.write(
    `${cpus().length} CPUs, ${PARAMS.inFlight} transfers in flight, pool of ${PARAMS.poolSize} connections on both sides; ` +
      `1-minute load average ${load.start.toFixed(2)} at the start of the measurements, ${load.end.toFixed(2)} at the end; ` +
      `service started as \`node ${[...cashier.nodeArgs, '<dist>/src/main.js'].join(' ')}\`\n`,
  );
  const path = await writeResults(join(ROOT, 'bench/results'), 'ledger', results);
  log(`results: ${path}`);
  if (!ok) throw new Error(`the ledger is wrong after the run: ${JSON.stringify(ledger).slice(0, 2000)}`);
}

await runMain(main);
