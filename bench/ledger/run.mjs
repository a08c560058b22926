// Ledger benchmark: acknowledged transfers per second and their latency through the service
// (socket.io `transfer` request → posting → outbox → ack, and the receiver's push), against a bare
// socket.io server whose handler makes one round trip to a plpgsql function doing the same posting
// on a minimal schema (bare-ledger.mjs), and against the posting alone as one raw SQL statement
// on the service's schema (in the users' EUR wallets, so it never moves an account under the
// service); in one run, on the same machine, database and clients, at several loads.
//
//   CASHIER_DIST=.bench-dist node bench/ledger/run.mjs
//
// 1. uniform, at each of BENCH_LEVELS transfers in flight (1, 8, 32, 256): each transfer from a
//    random user to another random user
// 2. hot receiver, BENCH_IN_FLIGHT in flight: every transfer into one user, from the others
// Before the first scenario each side runs on its own for a while (BENCH_START_WARMUP_SECONDS at 8
// in flight: the service's code reaches the speed it keeps only after several thousand transfers,
// bench/README.md); each scenario then warms the three sides up again, briefly, and runs them in
// alternating blocks (cashier, bare, raw, raw, bare, cashier). Afterwards both ledgers must hold:
// the admin ledger check finds no problem, every wallet and the fee accounts hold exactly what the
// acknowledged transfers predict, and the same for the bare ledger.
//
// Prints markdown tables and writes bench/results/ledger-<timestamp>.json and ledger-latest.json.
// Exits 0 when it measured (a missed target is a result, not an error), non-zero when it could not
// or when a ledger is wrong afterwards. See bench/README.md. Where the time of one transfer goes:
// breakdown.mjs.
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkBareLedger, createBareLedger, FEE_SHARDS, startBareLedgerServer } from '../support/bare-ledger.mjs';
import { fundUsers, getJson } from '../support/cashier.mjs';
import { cpuDelta, cpuSnapshot } from '../support/cpu.mjs';
import { closeAllLean, openManyLean } from '../support/lean-socket.mjs';
import { createRawLedger } from '../support/ledger-sql.mjs';
import { log, onCleanup, prepareRun, runInfo, runMain } from '../support/lifecycle.mjs';
import { contextRow, judgedRow, markdownTable, writeResults } from '../support/report.mjs';
import { summarize } from '../support/stats.mjs';
import { sleep } from '../support/wait.mjs';
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
  HOT_ACCOUNT_SHARDS,
  hotPair,
  openCashierSockets,
  startCashiers,
  uniformPair,
  walletIds,
} from './setup.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PARAMS = {
  users: Number(process.env.BENCH_USERS ?? 1000),
  /**
   * Transfers in flight at once in the uniform scenario, one measurement each: 1 and 8 are what
   * most users see (bound by latency), 256 keeps both CPUs busy (the service batches what queues
   * while a transaction runs; from 256 on it is bound by CPU, 512 measured the same).
   */
  levels: (process.env.BENCH_LEVELS ?? '1,8,32,256').split(',').map(Number),
  /** Transfers in flight in the hot receiver scenario; 0 skips it. */
  hotInFlight: Number(process.env.BENCH_IN_FLIGHT ?? 256),
  /** Service processes (ROLE=api) sharing the database and Redis; users' sockets spread over them. */
  instances: Number(process.env.BENCH_INSTANCES ?? 1),
  /** Connections of each service's pool (DATABASE_POOL_SIZE), of the bare server's and of the raw SQL pool. */
  poolSize: Number(process.env.BENCH_POOL_SIZE ?? 10),
  /**
   * Per side, once, before the first scenario, at 8 in flight. A freshly started service acks about
   * half as many transfers per second at 1 in flight in its first seconds as 15–20 s later (V8 is
   * still compiling its hot paths; a service restarted on the same database climbs the same way):
   * without this, the first levels measure the start-up, not the service (bench/README.md,
   * "Results, 2026-12-07, later").
   */
  startWarmupSeconds: Number(process.env.BENCH_START_WARMUP_SECONDS ?? 20),
  /** Per side before each scenario; the first measured block ran ~10 % slow after 2 s at 256. */
  warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? 3),
  /** Measured seconds per block; each side runs 2 blocks per scenario. */
  blockSeconds: Number(process.env.BENCH_BLOCK_SECONDS ?? 5),
  /** After a block, how long frames still in flight may take to reach the receivers. */
  pushSettleMs: 250,
  currency: 'USD',
  /** The raw SQL side's currency (see rawSide). */
  rawCurrency: 'EUR',
  /** Per transfer, in minor units: 1.00 USD, and its 2 % fee (config/fees.json). */
  amount: 100n,
  fee: 2n,
  /** Each user's opening balance, in minor units (1,000,000.00 USD): no transfer can fail for lack of funds. */
  funding: 100_000_000n,
};
/** Issue 18's targets against bare, and the earlier ones against raw SQL. */
const TARGETS = {
  /** Throughput ≥ this × bare's: 0.5 where latency bounds it (≤ 8 in flight), 0.8 from 32 on. */
  throughputToBare: (level) => (level <= 8 ? 0.5 : 0.8),
  ackP50ToBare: 2,
  pushP99ToBare: 1.5,
  pushLevel: 32,
  ratioToRaw: 0.5,
  uniformPerSecond: 2000,
  hotToUniform: 0.5,
};
/** Each user has a socket on the service and one on the bare server, here; plus pools and files. */
const MIN_OPEN_FILES = 2 * PARAMS.users + 500;

// --- what the acknowledged transfers did, checked at the end ---

/**
 * Minor units per account: the service's ledger (cashier and raw SQL sides) by wallet id, the bare
 * ledger by user id; the fee accounts together under FEES (each side picks a shard per transaction).
 */
const expected = { ledger: new Map(), bare: new Map() };
const FEES = 'fee shards';
/** The raw SQL side's fee shards (its own currency, below). */
const RAW_FEES = 'raw SQL fee shards';
const addDelta = (map, key, delta) => map.set(key, (map.get(key) ?? 0n) + delta);

function record(map, fromKey, toKey, feesKey = FEES) {
  addDelta(map, fromKey, -(PARAMS.amount + PARAMS.fee));
  addDelta(map, toKey, PARAMS.amount);
  addDelta(map, feesKey, PARAMS.fee);
}

// --- the three sides ---

function cashierSide() {
  const transfer = cashierTransfer(PARAMS);
  return {
    name: 'cashier',
    pushes: true,
    async transfer(from, to) {
      const result = await transfer(from, to);
      if (!result.refused) record(expected.ledger, from.walletId, to.walletId);
      return result;
    },
  };
}

/** The same request on the user's socket to the bare server. */
function bareSide() {
  const body = (to) => ({ to_user_id: to.id, amount: Number(PARAMS.amount) / 100, currency: PARAMS.currency });
  return {
    name: 'bare',
    pushes: true,
    async transfer(from, to) {
      const reply = await from.bareSocket.emitWithAck('transfer', body(to));
      if (reply?.ok !== true) return { refused: reply?.error?.code ?? 'BAD_ACK' };
      record(expected.bare, from.id, to.id);
      return { receipt: reply.data.receipt_code };
    },
  };
}

/**
 * The posting as one raw SQL statement on the service's schema, fee on a shard as the service would
 * pick one. In the users' wallets of another currency (PARAMS.rawCurrency) and its fee shards: the
 * same tables, sizes and contention, but never an account the service is posting to, whose state
 * it knows from its own commits (a write behind its back would have every next posting of the
 * service on that account sent twice; bench/README.md).
 */
function rawSide(env) {
  return {
    name: 'raw SQL',
    pushes: false,
    async transfer(from, to) {
      const feeId = env.rawFeeIds[Number(from.rawWalletId) % HOT_ACCOUNT_SHARDS];
      try {
        await env.raw.transfer({
          fromId: from.rawWalletId,
          toId: to.rawWalletId,
          feeId,
          userId: from.id,
          amount: PARAMS.amount,
          fee: PARAMS.fee,
          currency: PARAMS.rawCurrency,
        });
      } catch (error) {
        return { refused: error.code ?? error.message };
      }
      record(expected.ledger, from.rawWalletId, to.rawWalletId, RAW_FEES);
      return {};
    },
  };
}

// --- request → receiver push ---

const TRANSFER_EVENT = Buffer.from('"event":"transfer_completed"');
const RECEIPT = Buffer.from('"receipt_code":"');
const QUOTE = 0x22;

/**
 * Times from a transfer's request to the receiver's socket getting its `transfer_completed` frame
 * (both servers put the receipt code in it). Frames are looked at only while a block is measured,
 * by their bytes: `"event":"transfer_completed"`, then the receipt code.
 */
function pushTracker() {
  const arrived = new Map();
  let sent = [];
  let listening = false;
  return {
    onFrame(userId, buf) {
      if (!listening) return;
      const at = buf.indexOf(TRANSFER_EVENT);
      if (at < 0) return;
      const start = buf.indexOf(RECEIPT, at);
      if (start < 0) return;
      const from = start + RECEIPT.length;
      arrived.set(`${userId}|${buf.toString('latin1', from, buf.indexOf(QUOTE, from))}`, process.hrtime.bigint());
    },
    start() {
      arrived.clear();
      sent = [];
      listening = true;
    },
    /** A transfer done: its receiver's frame is expected (it may have arrived before the ack). */
    expect(to, receipt, at) {
      sent.push([`${to.id}|${receipt}`, at]);
    },
    /** Waits for the last frames; the latencies (ms) and how many frames never came. */
    async finish(settleMs) {
      await sleep(settleMs);
      listening = false;
      const latencies = [];
      let missing = 0;
      for (const [key, at] of sent) {
        const received = arrived.get(key);
        if (received === undefined) missing += 1;
        else latencies.push(Number(received - at) / 1e6);
      }
      arrived.clear();
      sent = [];
      return { latencies, missing };
    },
  };
}

// --- measurement ---

/** CPU ms so far by process group; the service processes together. */
function cpuOf(env) {
  const pids = Object.fromEntries(env.cashiers.map((c, i) => [`cashier${i}`, c.proc.pid]));
  const { bench, bare, postgres, redis, ...services } = cpuSnapshot(
    { ...pids, bare: env.bare.proc.pid, bench: 'self' },
    { database: env.run.database },
  );
  return { cashier: Object.values(services).reduce((a, b) => a + b, 0), bare, postgres, redis, bench };
}

const HISTOGRAMS = ['ledger_posting_batch_size', 'ledger_posting_queue_wait_seconds'];
/** The posting queue's transactions by path: one round trip on known states, read first, or missed. */
const PATHS = 'ledger_posting_batches_total';

function merge(blocks) {
  const latencies = blocks.flatMap((b) => b.latencies);
  const pushes = blocks.flatMap((b) => b.push?.latencies ?? []);
  const seconds = blocks.reduce((s, b) => s + b.seconds, 0);
  const refusals = {};
  for (const b of blocks) {
    for (const [code, n] of Object.entries(b.refusals)) refusals[code] = (refusals[code] ?? 0) + n;
  }
  const cpuMsPerTransfer = {};
  for (const name of Object.keys(blocks[0].cpuMs)) {
    cpuMsPerTransfer[name] = blocks.reduce((ms, b) => ms + b.cpuMs[name], 0) / latencies.length;
  }
  const sumOf = (name, field) => blocks.reduce((n, b) => n + (b.histograms?.[name][field] ?? 0), 0);
  const batches = sumOf('ledger_posting_batch_size', 'count');
  const paths = {};
  for (const b of blocks) {
    for (const [path, n] of Object.entries(b.paths ?? {})) paths[path] = (paths[path] ?? 0) + n;
  }
  const pathTotal = (paths.expected ?? 0) + (paths.read ?? 0);
  const waits = sumOf('ledger_posting_queue_wait_seconds', 'count');
  return {
    acked: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    postingsPerTransaction: batches > 0 ? sumOf('ledger_posting_batch_size', 'sum') / batches : undefined,
    queueWaitMs: waits > 0 ? (1000 * sumOf('ledger_posting_queue_wait_seconds', 'sum')) / waits : undefined,
    /** Of the transactions that committed or refused, the share sent in one round trip; and the misses. */
    oneRoundTripPercent: pathTotal > 0 ? (100 * (paths.expected ?? 0)) / pathTotal : undefined,
    missedPercent: pathTotal > 0 ? (100 * (paths.expected_missed ?? 0)) / pathTotal : undefined,
    cpuMsPerTransfer,
    latency: summarize(latencies),
    push: pushes.length > 0 ? summarize(pushes) : undefined,
    pushesMissing: blocks.reduce((n, b) => n + (b.push?.missing ?? 0), 0),
    refusals,
    blocksPerSecond: blocks.map((b) => b.acked / b.seconds),
  };
}

/** Each side on its own, once, before anything is measured (PARAMS.startWarmupSeconds). */
async function warmUp(env, pick) {
  if (PARAMS.startWarmupSeconds <= 0) return;
  for (const side of [cashierSide(), bareSide(), rawSide(env)]) {
    const { acked, seconds } = await drive(side.transfer, pick, { seconds: PARAMS.startWarmupSeconds, inFlight: 8 });
    log(`warming up: ${side.name}: ${Math.round(acked / seconds)} transfers/s at 8 in flight`);
  }
}

/** Warms the sides up, then runs them in blocks: cashier, bare, raw, raw, bare, cashier. */
async function scenario(name, env, pick, inFlight) {
  const sides = [cashierSide(), bareSide(), rawSide(env)];
  log(`${name}: warming up`);
  for (const side of sides) await drive(side.transfer, pick, { seconds: PARAMS.warmupSeconds, inFlight });
  const blocks = Object.fromEntries(sides.map((side) => [side.name, []]));
  for (const side of [...sides, ...[...sides].reverse()]) {
    const isCashier = side.name === 'cashier';
    const before = isCashier ? await histogramTotals(env.cashiers, HISTOGRAMS) : undefined;
    const pathsBefore = isCashier ? await counterTotals(env.cashiers, PATHS) : undefined;
    if (side.pushes) env.push.start();
    const cpuBefore = cpuOf(env);
    const block = await drive(side.transfer, pick, {
      seconds: PARAMS.blockSeconds,
      inFlight,
      onDone: side.pushes ? (_from, to, receipt, sent) => env.push.expect(to, receipt, sent) : undefined,
    });
    block.cpuMs = cpuDelta(cpuBefore, cpuOf(env));
    if (side.pushes) block.push = await env.push.finish(PARAMS.pushSettleMs);
    if (before) block.histograms = histogramDelta(before, await histogramTotals(env.cashiers, HISTOGRAMS));
    if (pathsBefore) block.paths = counterDelta(pathsBefore, await counterTotals(env.cashiers, PATHS));
    log(`${name}: ${side.name}: ${Math.round(block.acked / block.seconds)} transfers/s`);
    blocks[side.name].push(block);
  }
  return { inFlight, cashier: merge(blocks.cashier), bare: merge(blocks.bare), raw: merge(blocks['raw SQL']) };
}

// --- after: the ledgers must hold ---

async function verifyLedger(env, opening) {
  const check = await getJson(env.cashiers[0].url, '/api/v1/admin/ledger/check', env.adminToken);
  const wallets = [...expected.ledger.keys()].filter((key) => key !== FEES && key !== RAW_FEES);
  const { rows } = await env.db.query(`SELECT id, balance FROM accounts WHERE id = ANY($1::bigint[])`, [
    [...wallets, ...env.feeIds, ...env.rawFeeIds],
  ]);
  const balances = new Map(rows.map((r) => [String(r.id), BigInt(r.balance)]));
  const sumOf = (ids, map) => ids.reduce((sum, id) => sum + map.get(id), 0n);
  const actual = [
    ...wallets.map((id) => [id, balances.get(id), opening.get(id)]),
    [FEES, sumOf(env.feeIds, balances), sumOf(env.feeIds, opening)],
    ...(expected.ledger.has(RAW_FEES)
      ? [[RAW_FEES, sumOf(env.rawFeeIds, balances), sumOf(env.rawFeeIds, opening)]]
      : []),
  ];
  const wrong = [];
  for (const [key, balance, before] of actual) {
    const want = before + expected.ledger.get(key);
    if (balance !== want) wrong.push({ account: key, balance: String(balance), expected: String(want) });
  }
  const bare = await checkBareLedger(env.db, { funding: PARAMS.funding, expected: expected.bare, feesKey: FEES });
  return { check, accounts: actual.length, wrongBalances: wrong, bare };
}

async function openingBalances(db) {
  const { rows } = await db.query(`SELECT id, balance FROM accounts`);
  return new Map(rows.map((r) => [String(r.id), BigInt(r.balance)]));
}

// --- the run ---

const fmt = (n) => n.toLocaleString('en-US');
const withRaw = (row, raw) => ({ ...row, raw });

function levelRows(m) {
  const label = `uniform, ${m.inFlight} in flight`;
  const { cashier, bare, raw } = m;
  const throughput = TARGETS.throughputToBare(m.inFlight);
  const pushJudged = m.inFlight === TARGETS.pushLevel;
  return [
    withRaw(
      judgedRow(
        `${label}: throughput`,
        'transfers/s',
        cashier.perSecond,
        bare.perSecond,
        `≥ ${throughput}× bare`,
        cashier.perSecond >= throughput * bare.perSecond,
      ),
      raw.perSecond,
    ),
    withRaw(
      judgedRow(
        `${label}: ack p50`,
        'ms',
        cashier.latency.p50,
        bare.latency.p50,
        `≤ ${TARGETS.ackP50ToBare}× bare`,
        cashier.latency.p50 <= TARGETS.ackP50ToBare * bare.latency.p50,
      ),
      raw.latency.p50,
    ),
    withRaw(contextRow(`${label}: ack p99`, 'ms', cashier.latency.p99, bare.latency.p99), raw.latency.p99),
    contextRow(`${label}: request → receiver push p50`, 'ms', cashier.push?.p50, bare.push?.p50),
    pushJudged
      ? judgedRow(
          `${label}: request → receiver push p99`,
          'ms',
          cashier.push?.p99,
          bare.push?.p99,
          `≤ ${TARGETS.pushP99ToBare}× bare`,
          cashier.push?.p99 <= TARGETS.pushP99ToBare * bare.push?.p99,
        )
      : contextRow(`${label}: request → receiver push p99`, 'ms', cashier.push?.p99, bare.push?.p99),
    withRaw(contextRow(`${label}: batch size`, 'transfers per transaction', cashier.postingsPerTransaction, 1), 1),
    contextRow(`${label}: posting queue wait, mean`, 'ms', cashier.queueWaitMs, undefined),
    contextRow(`${label}: transactions in one round trip`, '%', cashier.oneRoundTripPercent, undefined),
    contextRow(`${label}: transactions sent on a state moved on since`, '%', cashier.missedPercent, undefined),
  ];
}

function tableRows(m) {
  const rows = m.levels.flatMap(levelRows);
  const top = m.levels.at(-1);
  if (top) {
    rows.push(
      withRaw(
        judgedRow(
          `uniform, ${top.inFlight} in flight: throughput against raw SQL`,
          'transfers/s',
          top.cashier.perSecond,
          top.bare.perSecond,
          `≥ ${TARGETS.ratioToRaw}× raw SQL and ≥ ${fmt(TARGETS.uniformPerSecond)}/s`,
          top.cashier.perSecond >= TARGETS.ratioToRaw * top.raw.perSecond &&
            top.cashier.perSecond >= TARGETS.uniformPerSecond,
        ),
        top.raw.perSecond,
      ),
    );
  }
  const { hot } = m;
  if (hot) {
    const uniform = m.levels.find((l) => l.inFlight === hot.inFlight) ?? top;
    const label = `hot receiver, ${hot.inFlight} in flight`;
    const floor = TARGETS.hotToUniform * uniform.cashier.perSecond;
    rows.push(
      withRaw(
        judgedRow(
          `${label}: throughput`,
          'transfers/s',
          hot.cashier.perSecond,
          hot.bare.perSecond,
          `≥ ${TARGETS.hotToUniform}× cashier uniform at ${uniform.inFlight} (${fmt(Math.round(floor))}/s)`,
          hot.cashier.perSecond >= floor,
        ),
        hot.raw.perSecond,
      ),
      withRaw(
        contextRow(`${label}: ack p50`, 'ms', hot.cashier.latency.p50, hot.bare.latency.p50),
        hot.raw.latency.p50,
      ),
      withRaw(
        contextRow(`${label}: ack p99`, 'ms', hot.cashier.latency.p99, hot.bare.latency.p99),
        hot.raw.latency.p99,
      ),
      withRaw(
        contextRow(`${label}: batch size`, 'transfers per transaction', hot.cashier.postingsPerTransaction, 1),
        1,
      ),
    );
  }
  return rows;
}

/** Issue 18's table: one line per load. */
function levelTable(levels) {
  const lines = [
    '| in flight | cashier transfers/s | bare | ratio | cashier ack p50 | bare ack p50 | ratio | cashier push p99 | bare push p99 | raw SQL transfers/s |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const ms = (x) => (x === undefined ? '–' : `${x.toFixed(x < 10 ? 2 : 1)} ms`);
  for (const { inFlight, cashier, bare, raw } of levels) {
    lines.push(
      `| ${inFlight} | ${fmt(Math.round(cashier.perSecond))} | ${fmt(Math.round(bare.perSecond))} | ` +
        `${(cashier.perSecond / bare.perSecond).toFixed(2)}× | ${ms(cashier.latency.p50)} | ${ms(bare.latency.p50)} | ` +
        `${(cashier.latency.p50 / bare.latency.p50).toFixed(2)}× | ${ms(cashier.push?.p99)} | ${ms(bare.push?.p99)} | ` +
        `${fmt(Math.round(raw.perSecond))} |`,
    );
  }
  return lines.join('\n');
}

/** Where the CPU went: ms per acknowledged transfer, by process group ("bench" is the load generator: its lean sockets). */
function cpuTable(m) {
  const groups = ['cashier', 'bare', 'postgres', 'redis', 'bench'];
  const lines = [
    `| CPU ms per transfer | ${groups.join(' | ')} | total |`,
    `| --- | ${groups.map(() => '---:').join(' | ')} | ---: |`,
  ];
  const scenarios = [
    ...m.levels.map((l) => [`uniform ${l.inFlight}`, l]),
    ...(m.hot ? [[`hot ${m.hot.inFlight}`, m.hot]] : []),
  ];
  for (const [name, sides] of scenarios) {
    for (const side of ['cashier', 'bare', 'raw']) {
      const cpu = sides[side].cpuMsPerTransfer;
      const total = groups.reduce((sum, g) => sum + cpu[g], 0);
      lines.push(`| ${name}, ${side} | ${groups.map((g) => cpu[g].toFixed(3)).join(' | ')} | ${total.toFixed(3)} |`);
    }
  }
  return lines.join('\n');
}

async function main(abort) {
  const startedAt = new Date().toISOString();
  checkOpenFileLimit(MIN_OPEN_FILES, `${PARAMS.users} users' two sockets`);
  const run = await prepareRun(ROOT);
  log(`run ${run.redisPrefix}: dist ${run.dist}`);

  const cashiers = await startCashiers(run, { instances: PARAMS.instances, poolSize: PARAMS.poolSize, log, abort });
  const db = benchPool(run);
  const raw = createRawLedger(run.databaseUrl, PARAMS.poolSize);
  onCleanup('close raw SQL pool', raw.close);

  const { users, adminToken } = await createFundedUsers(cashiers[0].url, run, {
    count: PARAMS.users,
    currency: PARAMS.currency,
    funding: PARAMS.funding,
    log,
  });
  const feeIds = await walletIds(db, users, PARAMS.currency);
  log(`funding ${PARAMS.users} users in ${PARAMS.rawCurrency} for the raw SQL side`);
  await fundUsers(cashiers[0].url, adminToken, users, PARAMS.rawCurrency, (PARAMS.funding / 100n).toString());
  const rawFeeIds = await walletIds(db, users, PARAMS.rawCurrency, 'rawWalletId');
  await createBareLedger(
    db,
    users.map((u) => u.id),
    PARAMS.funding,
  );
  const bare = await startBareLedgerServer(run, {
    log,
    poolSize: PARAMS.poolSize,
    currency: PARAMS.currency,
    feeRate: Number(PARAMS.fee) / Number(PARAMS.amount),
  });
  onCleanup('stop bare ledger server', () => bare.proc.stop());
  bare.proc.died.catch(abort);

  log(`opening ${PARAMS.users} sockets on the service and ${PARAMS.users} on the bare server`);
  const sockets = await openCashierSockets(cashiers, users);
  onCleanup('close sockets', () => closeAllLean(sockets));
  const { sockets: bareSockets } = await openManyLean(bare.url, users.length, (i) => ({
    auth: { user_id: users[i].id },
  }));
  onCleanup('close bare sockets', () => closeAllLean(bareSockets));
  const push = pushTracker();
  for (const [i, user] of users.entries()) {
    user.bareSocket = bareSockets[i];
    user.socket.onEvent = (buf) => push.onFrame(user.id, buf);
    user.bareSocket.onEvent = (buf) => push.onFrame(user.id, buf);
  }

  const env = { run, cashiers, bare, db, raw, feeIds, rawFeeIds, adminToken, push };
  const opening = await openingBalances(db);
  await warmUp(env, uniformPair(users));
  const loadAtStart = loadavg()[0];
  const measurements = { levels: [] };
  for (const level of PARAMS.levels) {
    measurements.levels.push(await scenario(`uniform, ${level} in flight`, env, uniformPair(users), level));
  }
  if (PARAMS.hotInFlight > 0) {
    measurements.hot = await scenario('hot receiver', env, hotPair(users), PARAMS.hotInFlight);
  }
  const load = { start: loadAtStart, end: loadavg()[0] };
  log('verifying the ledgers');
  const ledger = await verifyLedger(env, opening);
  const rows = tableRows(measurements);
  const omit = ({ latencies: _latencies, ...rest }) => rest;
  const omitSides = ({ cashier: c, bare: b, raw: r, ...rest }) => ({
    ...rest,
    cashier: omit(c),
    bare: omit(b),
    raw: omit(r),
  });
  const results = {
    run: runInfo(startedAt, run.dist, load),
    params: {
      ...PARAMS,
      amount: Number(PARAMS.amount),
      fee: Number(PARAMS.fee),
      funding: Number(PARAMS.funding),
      bareFeeShards: FEE_SHARDS,
      cashierNodeArgs: cashiers[0].nodeArgs,
    },
    targets: {
      ...TARGETS,
      throughputToBare: Object.fromEntries(PARAMS.levels.map((l) => [l, TARGETS.throughputToBare(l)])),
    },
    cashier_log_warnings: cashiers[0].warnings,
    measurements: {
      levels: measurements.levels.map(omitSides),
      hot: measurements.hot && omitSides(measurements.hot),
    },
    ledger,
    rows,
  };
  process.stdout.write(`${levelTable(measurements.levels)}\n\n`);
  process.stdout.write(`${markdownTable(rows, { baseline: 'bare', extra: { name: 'raw SQL', key: 'raw' } })}\n\n`);
  process.stdout.write(`${cpuTable(measurements)}\n\n`);
  const ok =
    ledger.check.balanced &&
    ledger.wrongBalances.length === 0 &&
    ledger.bare.problems.length === 0 &&
    ledger.bare.wrongBalances.length === 0;
  process.stdout.write(
    `ledger after the run: admin check ${ledger.check.balanced ? 'finds no problem' : `finds ${ledger.check.problems.length} problems`}, ` +
      `${ledger.accounts - ledger.wrongBalances.length} of ${ledger.accounts} wallets (and the fee shards together) hold exactly the predicted balance; ` +
      `bare ledger: ${ledger.bare.problems.length} problems, ${ledger.bare.accounts - ledger.bare.wrongBalances.length} of ${ledger.bare.accounts} as predicted\n`,
  );
  const scenarios = [...measurements.levels, ...(measurements.hot ? [measurements.hot] : [])];
  for (const m of scenarios) {
    for (const side of ['cashier', 'bare', 'raw']) {
      if (Object.keys(m[side].refusals).length > 0) {
        process.stdout.write(`refused (${m.inFlight} in flight, ${side}): ${JSON.stringify(m[side].refusals)}\n`);
      }
      if (m[side].pushesMissing > 0) {
        process.stdout.write(`pushes missing (${m.inFlight} in flight, ${side}): ${m[side].pushesMissing}\n`);
      }
    }
  }
  process.stdout.write(
    `${cpus().length} CPUs, ${PARAMS.users} users, pool of ${PARAMS.poolSize} connections on every side; ` +
      `1-minute load average ${load.start.toFixed(2)} at the start of the measurements, ${load.end.toFixed(2)} at the end; ` +
      `service started as \`node ${[...cashiers[0].nodeArgs, '<dist>/src/main.js'].join(' ')}\`\n`,
  );
  const path = await writeResults(join(ROOT, 'bench/results'), 'ledger', results);
  log(`results: ${path}`);
  if (!ok) throw new Error(`a ledger is wrong after the run: ${JSON.stringify(ledger).slice(0, 2000)}`);
}

await runMain(main);
