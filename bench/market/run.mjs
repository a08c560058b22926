// Market benchmark (issue 16): the exchange against same-run baselines, in one run, on the same
// machine, PostgreSQL and Redis.
//
//   CASHIER_DIST=.bench-dist node bench/market/run.mjs
//
// (a) the matching engine alone, in process, against nodejs-order-book (engine.mjs's measureEngine)
// (b) acknowledged `place_order` per second over socket.io, half of the orders crossing, against
//     the same run's `transfer` of 1.00 USD (the ledger bench's cashier side), same users and
//     sockets, in alternating blocks (ABBA), 256 (and 32) requests in flight
// (c) a trade's `new-trade` frame reaching 1,000 `/public` sockets, against a bare socket.io room
//     broadcast of the same frame: judged on publish → receipt (the compiled publishPublic() in
//     this process), with the whole trade (crossing place_order sent → receipt) as context
// Afterwards the admin ledger check must find no problem, and no request may have got INTERNAL.
//
// Prints a markdown table and writes bench/results/market-<timestamp>.json and market-latest.json.
// Exits 0 when it measured (a missed target is a result, not an error), non-zero when it could not,
// when the ledger check fails or when a request got INTERNAL. See bench/README.md.
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBareEmitter, startBareServer } from '../support/bare.mjs';
import { createPublisher, createUsers, fundUsers, getJson, logIn, startCashier } from '../support/cashier.mjs';
import { cpuDelta, cpuSnapshot } from '../support/cpu.mjs';
import { streamReceiver } from '../support/fan-out.mjs';
import { closeAllLean, openManyLean } from '../support/lean-socket.mjs';
import { keepRunning, log, onCleanup, prepareRun, runInfo, runMain } from '../support/lifecycle.mjs';
import { contextRow, judgedRow, markdownTable, targetRow, writeResults } from '../support/report.mjs';
import { closeAll, openMany, request } from '../support/sockets.mjs';
import { msSince, summarize } from '../support/stats.mjs';
import { checkOpenFileLimit } from '../support/measure.mjs';
import { mapLimit } from '../support/wait.mjs';
import { loadEngine, measureEngine, PARAMS as ENGINE_PARAMS } from './engine.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ENGINE_BASELINE = 'nodejs-order-book 10.1.1';
const env = process.env;
const PARAMS = {
  /** Users of (b), each with one socket; the first two also make the trades of (c). */
  users: Number(env.BENCH_USERS ?? 300),
  /** Requests in flight in (b), on both sides; the second level is context (0 skips it). */
  inFlight: Number(env.BENCH_IN_FLIGHT ?? 256),
  lowInFlight: Number(env.BENCH_LOW_IN_FLIGHT ?? 32),
  /** Per side before the blocks of each in-flight level. */
  warmupSeconds: Number(env.BENCH_WARMUP_SECONDS ?? 4),
  /** Measured seconds per block; a round is 2 blocks per side: orders, transfers, transfers, orders. */
  blockSeconds: Number(env.BENCH_BLOCK_SECONDS ?? 5),
  /** Rounds at `inFlight` (the judged level; other load on the machine comes and goes); 1 at `lowInFlight`. */
  rounds: Number(env.BENCH_ROUNDS ?? 2),
  /** The service's pool (DATABASE_POOL_SIZE), as in the ledger bench. */
  poolSize: Number(env.BENCH_POOL_SIZE ?? 10),
  orders: {
    pair: 'BTC-USD',
    /** 20000.00 USD, in cents. */
    mid: 2_000_000,
    amount: '0.001',
    /** Resting orders sit 1..restingTicks ticks (0.01 USD) from the mid, on their own side. */
    restingTicks: 10,
    /** Crossing orders are ioc limits this many ticks through the mid: they take the best resting order. */
    throughTicks: 20,
    /** Resting orders placed on each side before the warm-up, so a crossing order always finds one. */
    seedPerSide: 100,
  },
  transfer: { currency: 'USD', amount: 1 },
  /** Each user's funds (major units): no order or transfer can fail for lack of them. */
  funding: { BTC: '100', USD: '1000000' },
  fanOut: {
    subscribers: Number(env.BENCH_SUBSCRIBERS ?? 1000),
    /** publish → receipt events per side (after `warmup`), one at a time. */
    rounds: Number(env.BENCH_FANOUT_ROUNDS ?? 300),
    warmup: 30,
    /** Whole trades (resting order, then the crossing one), one at a time. */
    tradeRounds: Number(env.BENCH_TRADE_ROUNDS ?? 100),
    tradeWarmup: 10,
    /** The three paths take turns in this many blocks of rounds. */
    blocks: 10,
    /** The trades of (c) are on this pair, whose book nothing else touches. */
    pair: 'BTC-EUR',
    price: '20000.00',
    amount: '0.0001',
    funding: { EUR: '1000000' },
  },
};
const TARGETS = { engineOpsPerSecond: 100_000, ordersToTransfers: 0.5, fanOutP99ToBare: 1.5 };
const ADMIN = { email: 'bench-admin@bench.example.com', password: 'bench-admin-password-1234' };
const PASSWORD = 'bench-password-1234';
const MIN_OPEN_FILES = PARAMS.users + 2 * PARAMS.fanOut.subscribers + 500;
const ROUND_TIMEOUT_MS = 10_000;

const randomIndex = (n) => Math.floor(Math.random() * n);
/** Cents as a price string: 2000001 → "20000.01". */
const priceText = (cents) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

// --- (b): place_order against transfer ---

/** Requests that got INTERNAL: kept (a few) for the report, since they are a defect of the service. */
const internals = [];

/** Counts a refused request by its code; an INTERNAL one is kept with its request. */
function refused(refusals, event, body, reply) {
  const code = reply?.data?.code ?? 'BAD_ACK';
  refusals[code] = (refusals[code] ?? 0) + 1;
  if (code === 'INTERNAL' && internals.length < 10) internals.push({ event, body, reply });
}

/**
 * The order stream of (b): pairs of a resting limit order (gtc, 1..restingTicks ticks from the mid
 * on its own side, never crossing) and a crossing one (ioc limit through the mid, on the other
 * side, same amount: it takes one resting order whole). Units alternate between the two sides, so
 * both sides of the book keep their depth. Half the orders cross.
 */
function orderStream({ pair, mid, amount, restingTicks, throughTicks }) {
  let n = 0;
  return () => {
    const i = n++;
    const unit = i >> 1;
    const restingSide = unit % 2 === 0 ? 'sell' : 'buy';
    if (i % 2 === 0) {
      const ticks = 1 + ((unit >> 1) % restingTicks);
      const price = restingSide === 'sell' ? mid + ticks : mid - ticks;
      return {
        crossing: false,
        body: { pair, side: restingSide, type: 'limit', amount, price: priceText(price), time_in_force: 'gtc' },
      };
    }
    const side = restingSide === 'sell' ? 'buy' : 'sell';
    const price = side === 'buy' ? mid + throughTicks : mid - throughTicks;
    return {
      crossing: true,
      body: { pair, side, type: 'limit', amount, price: priceText(price), time_in_force: 'ioc' },
    };
  };
}

/**
 * `place_order` on a random user's socket: resting orders from the users of even index, crossing
 * ones from the others, so that self-trade prevention never stops a crossing order. Counts the
 * crossing orders that traded.
 */
function ordersSide(users) {
  const next = orderStream(PARAMS.orders);
  const makers = users.filter((_, i) => i % 2 === 0);
  const takers = users.filter((_, i) => i % 2 === 1);
  return {
    name: 'place_order',
    async send(stats) {
      const { crossing, body } = next();
      const group = crossing ? takers : makers;
      const reply = await group[randomIndex(group.length)].socket.emitWithAck('place_order', body);
      if (reply?.type !== 'success') {
        refused(stats.refusals, 'place_order', body, reply);
        return false;
      }
      const order = reply.data?.data;
      stats.crossingSent += crossing ? 1 : 0;
      stats.crossed += crossing && order?.filled > 0 ? 1 : 0;
      if (order?.reason === 'self_trade') stats.selfTrades += 1;
      return true;
    },
  };
}

/** `transfer` of 1.00 USD between two random users (the ledger bench's cashier side). */
function transfersSide(users) {
  const { amount, currency } = PARAMS.transfer;
  return {
    name: 'transfer',
    async send(stats) {
      const from = randomIndex(users.length);
      const to = (from + 1 + randomIndex(users.length - 1)) % users.length;
      const body = { to_user_id: users[to].id, amount, currency };
      const reply = await users[from].socket.emitWithAck('transfer', body);
      if (reply?.type !== 'success') {
        refused(stats.refusals, 'transfer', body, reply);
        return false;
      }
      return true;
    },
  };
}

/** Keeps `inFlight` requests of `side` going for `seconds`: acknowledged ones, latencies, refusals. */
async function drive(side, seconds, inFlight) {
  const stats = { latencies: [], refusals: {}, crossingSent: 0, crossed: 0, selfTrades: 0 };
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  const worker = async () => {
    while (process.hrtime.bigint() < deadline) {
      const sent = process.hrtime.bigint();
      if (await side.send(stats)) stats.latencies.push(msSince(sent));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { ...stats, acked: stats.latencies.length, seconds: msSince(started) / 1000 };
}

function cpuOf(env) {
  const { bench, postgres, redis, cashier } = cpuSnapshot({ cashier: env.cashier.proc.pid, bench: 'self' });
  return { cashier, postgres, redis, bench };
}

function merge(blocks) {
  const latencies = blocks.flatMap((b) => b.latencies);
  const seconds = blocks.reduce((s, b) => s + b.seconds, 0);
  const sum = (key) => blocks.reduce((n, b) => n + b[key], 0);
  const refusals = {};
  for (const b of blocks) {
    for (const [code, n] of Object.entries(b.refusals)) refusals[code] = (refusals[code] ?? 0) + n;
  }
  const cpuMsPerRequest = {};
  for (const name of Object.keys(blocks[0].cpuMs)) {
    cpuMsPerRequest[name] = blocks.reduce((ms, b) => ms + b.cpuMs[name], 0) / latencies.length;
  }
  return {
    acked: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    latency: summarize(latencies),
    refusals,
    crossingSent: sum('crossingSent'),
    crossed: sum('crossed'),
    selfTrades: sum('selfTrades'),
    cpuMsPerRequest,
    blocksPerSecond: blocks.map((b) => b.acked / b.seconds),
  };
}

/** Warms both sides up, then runs `rounds` rounds of blocks: orders, transfers, transfers, orders. */
async function throughput(env, inFlight, rounds) {
  const [orders, transfers] = [env.ordersSide, env.transfersSide];
  log(`(b) ${inFlight} in flight: warming up`);
  for (const side of [orders, transfers]) await drive(side, PARAMS.warmupSeconds, inFlight);
  const blocks = { place_order: [], transfer: [] };
  const sides = Array.from({ length: rounds }, () => [orders, transfers, transfers, orders]).flat();
  for (const side of sides) {
    const cpuBefore = cpuOf(env);
    const block = await drive(side, PARAMS.blockSeconds, inFlight);
    block.cpuMs = cpuDelta(cpuBefore, cpuOf(env));
    log(`(b) ${inFlight} in flight: ${side.name}: ${Math.round(block.acked / block.seconds)}/s`);
    blocks[side.name].push(block);
  }
  return { inFlight, orders: merge(blocks.place_order), transfers: merge(blocks.transfer) };
}

/** Resting orders on both sides of the mid (from the makers), so that the first crossing orders find liquidity. */
async function seedBook(users) {
  const makers = users.filter((_, i) => i % 2 === 0);
  const { pair, mid, amount, restingTicks, seedPerSide } = PARAMS.orders;
  const bodies = [];
  for (let i = 0; i < seedPerSide; i++) {
    const ticks = 1 + (i % restingTicks);
    bodies.push({ pair, side: 'sell', type: 'limit', amount, price: priceText(mid + ticks), time_in_force: 'gtc' });
    bodies.push({ pair, side: 'buy', type: 'limit', amount, price: priceText(mid - ticks), time_in_force: 'gtc' });
  }
  await mapLimit(bodies, 32, async (body, i) => {
    const reply = await makers[i % makers.length].socket.emitWithAck('place_order', body);
    if (reply?.type !== 'success') throw new Error(`seeding the book: place_order refused: ${JSON.stringify(reply)}`);
  });
}

// --- (c): new-trade to 1,000 /public sockets ---

/** A new-trade payload as the service sends it (market.events.ts), with `id` telling events apart. */
const tradePayload = (id) => ({
  price: Number(PARAMS.fanOut.price),
  traded_btc: Number(PARAMS.fanOut.amount),
  timestamp: Date.now(),
  currency: 'EUR',
  pair: PARAMS.fanOut.pair,
  amount: Number(PARAMS.fanOut.amount),
  side: 'buy',
  id,
});

/**
 * One path to the sockets of `receiver`: `round(measured)` causes one event and resolves once
 * every socket received it, adding (event, socket) latencies to the path's samples when measured.
 */
function publishPath(name, receiver, publish) {
  const latencies = [];
  const publishCalls = [];
  let unmatched = 0;
  return {
    name,
    async round(id, measured) {
      const before = receiver.unmatched;
      const stamp = process.hrtime.bigint();
      const received = receiver.expect((frame) => frame?.event === 'new-trade' && frame.payload?.id === id, {
        onReceipt: measured ? (now) => latencies.push(Number(now - stamp) / 1e6) : undefined,
        timeoutMs: ROUND_TIMEOUT_MS,
        what: `${name}: event ${id}`,
      });
      const published = Promise.resolve(publish(tradePayload(id))).then(() => {
        if (measured) publishCalls.push(msSince(stamp));
      });
      await Promise.all([published, received]);
      unmatched += receiver.unmatched - before;
    },
    result: () => ({
      latency: summarize(latencies),
      publishCall: publishCalls.length > 0 ? summarize(publishCalls) : undefined,
      unexpectedFrames: unmatched,
    }),
  };
}

/**
 * Whole trades: `maker` rests a sell on the (c) pair (and every socket gets its depth update), then
 * `taker`'s crossing buy (ioc, same price and amount) makes one trade. Latency: from sending the
 * crossing place_order to each socket's `new-trade`; the round ends once every socket also got the
 * trade's `tick`, which the service sends after it (and after its depth updates).
 */
function tradePath(receiver, users) {
  const latencies = [];
  const acks = [];
  const { pair, price, amount } = PARAMS.fanOut;
  let count = 0;
  const place = async (user, body) => {
    const reply = await user.socket.emitWithAck('place_order', body);
    if (reply?.type !== 'success') {
      refused({}, 'place_order', body, reply);
      throw new Error(`(c) place_order refused: ${JSON.stringify(reply)} for ${JSON.stringify(body)}`);
    }
    return reply.data.data;
  };
  const expect = (what, match, onReceipt) =>
    receiver.expect(match, { onReceipt, timeoutMs: ROUND_TIMEOUT_MS, what: `trade ${count}: ${what}` });
  return {
    name: 'cashier trade',
    async round(_id, measured) {
      count += 1;
      const [maker, taker] = count % 2 === 0 ? [users[0], users[1]] : [users[1], users[0]];
      const rested = expect('depth update', (f) => f?.event === 'update-market-depth' && f.payload?.amount > 0);
      const resting = await place(maker, { pair, side: 'sell', type: 'limit', amount, price, time_in_force: 'gtc' });
      if (resting.status !== 'open') throw new Error(`(c) resting order is ${resting.status}, not open`);
      await rested;
      const stamp = process.hrtime.bigint();
      const traded = expect(
        'new-trade',
        (f) => f?.event === 'new-trade',
        measured ? (now) => latencies.push(Number(now - stamp) / 1e6) : undefined,
      );
      const ticked = expect('tick', (f) => f?.event === 'tick');
      const crossing = place(taker, { pair, side: 'buy', type: 'limit', amount, price, time_in_force: 'ioc' }).then(
        (order) => {
          if (measured) acks.push(msSince(stamp));
          if (order.status !== 'filled') throw new Error(`(c) crossing order is ${order.status}, not filled`);
        },
      );
      await Promise.all([crossing, traded, ticked]);
    },
    result: () => ({ latency: summarize(latencies), placeOrderAck: summarize(acks) }),
  };
}

/** Opens the 1,000 sockets of each server, every one in `trade`, and measures the three paths. */
async function fanOut(env) {
  const { subscribers: n, rounds, warmup, tradeRounds, tradeWarmup, blocks } = PARAMS.fanOut;
  log(`(c) opening ${n} /public sockets on the cashier (in trade, ticker, market-depth) and ${n} on bare`);
  const cashierSockets = await openMany(
    env.cashier.url,
    n,
    () => ({ namespace: '/public' }),
    // In `trade` since the connect; asking again answers once that join is done.
    (socket) => request(socket, 'channel', 'trade'),
  );
  onCleanup('close cashier /public sockets', () => closeAll(cashierSockets.sockets));
  const bareSockets = await openMany(
    env.bare.url,
    n,
    () => ({ namespace: '/public' }),
    (socket) => request(socket, 'join', ['trade']),
  );
  onCleanup('close bare /public sockets', () => closeAll(bareSockets.sockets));
  const onCashier = streamReceiver(cashierSockets.sockets);
  const onBare = streamReceiver(bareSockets.sockets);
  let seq = 0;
  const paths = {
    publish: publishPath('cashier publishPublic', onCashier, (payload) =>
      env.publisher.publishPublic('trade', 'new-trade', payload),
    ),
    bare: publishPath('bare', onBare, (payload) =>
      env.emitter.publish(
        'trade',
        { event: 'new-trade', channel: 'trade', seq: ++seq, timestamp: new Date().toISOString(), payload },
        '/public',
      ),
    ),
    trade: tradePath(onCashier, env.users),
  };
  let id = 0;
  const run = async (path, count, measured) => {
    for (let i = 0; i < count; i++) await path.round(++id, measured);
  };
  try {
    log(`(c) warming up: ${warmup} events per side, ${tradeWarmup} trades`);
    await run(paths.publish, warmup, false);
    await run(paths.bare, warmup, false);
    await run(paths.trade, tradeWarmup, false);
    log(`(c) ${rounds} events per side and ${tradeRounds} trades, in ${blocks} blocks taking turns`);
    for (let block = 0; block < blocks; block++) {
      const order = block % 2 === 0 ? ['publish', 'bare', 'trade'] : ['trade', 'bare', 'publish'];
      for (const name of order) {
        const count = name === 'trade' ? tradeRounds / blocks : rounds / blocks;
        await run(paths[name], Math.round(count), true);
      }
    }
    return { publish: paths.publish.result(), bare: paths.bare.result(), trade: paths.trade.result() };
  } finally {
    onCashier.close();
    onBare.close();
    closeAll(cashierSockets.sockets);
    closeAll(bareSockets.sockets);
  }
}

// --- the run ---

const count = (n) => n.toLocaleString('en-US');

function tableRows(m) {
  const [engine, withChecksum] = m.engine.rows;
  const rows = [
    { ...engine, measurement: `(a) engine in process, one pair: mixed stream (vs ${ENGINE_BASELINE})` },
    { ...withChecksum, measurement: `(a) engine + checksum after every operation (vs ${ENGINE_BASELINE} without)` },
  ];
  for (const level of m.throughput) {
    const { orders, transfers, inFlight } = level;
    const judged = inFlight === PARAMS.inFlight;
    const label = `(b) ${inFlight} in flight`;
    const ratio = TARGETS.ordersToTransfers;
    rows.push(
      judged
        ? judgedRow(
            `${label}: acked place_order, half crossing (vs transfer)`,
            'requests/s',
            orders.perSecond,
            transfers.perSecond,
            `≥ ${ratio}× transfer`,
            orders.perSecond >= ratio * transfers.perSecond,
          )
        : contextRow(`${label}: acked place_order (vs transfer)`, 'requests/s', orders.perSecond, transfers.perSecond),
      contextRow(`${label}: ack latency p50`, 'ms', orders.latency.p50, transfers.latency.p50),
      contextRow(`${label}: ack latency p99`, 'ms', orders.latency.p99, transfers.latency.p99),
    );
  }
  const { publish, bare, trade } = m.fanOut;
  const subscribers = count(PARAMS.fanOut.subscribers);
  rows.push(
    contextRow(
      `(c) new-trade to ${subscribers} /public sockets, publish → receipt: p50 (vs bare room broadcast)`,
      'ms',
      publish.latency.p50,
      bare.latency.p50,
    ),
    targetRow(
      `(c) new-trade to ${subscribers} /public sockets, publish → receipt: p99 (vs bare room broadcast)`,
      'ms',
      publish.latency.p99,
      bare.latency.p99,
      TARGETS.fanOutP99ToBare,
    ),
    contextRow(`(c) publish → receipt: max`, 'ms', publish.latency.max, bare.latency.max),
    contextRow(
      `(c) whole trade, crossing place_order sent → receipt: p50 (vs bare)`,
      'ms',
      trade.latency.p50,
      bare.latency.p50,
    ),
    contextRow(`(c) whole trade: p99 (vs bare)`, 'ms', trade.latency.p99, bare.latency.p99),
    contextRow(`(c) whole trade: max (vs bare)`, 'ms', trade.latency.max, bare.latency.max),
  );
  return rows;
}

/** Where the CPU went in (b): ms per acknowledged request ("bench" is the load generator). */
function cpuTable(m) {
  const groups = ['cashier', 'postgres', 'redis', 'bench'];
  const lines = [
    `| (b) CPU ms per acked request | ${groups.join(' | ')} | total |`,
    `| --- | ${groups.map(() => '---:').join(' | ')} | ---: |`,
  ];
  for (const level of m.throughput) {
    for (const [side, result] of [
      ['place_order', level.orders],
      ['transfer', level.transfers],
    ]) {
      const cpu = result.cpuMsPerRequest;
      const total = groups.reduce((sum, g) => sum + cpu[g], 0);
      lines.push(
        `| ${level.inFlight} in flight, ${side} | ${groups.map((g) => cpu[g].toFixed(3)).join(' | ')} | ${total.toFixed(3)} |`,
      );
    }
  }
  return lines.join('\n');
}

function notes(m, ledger, load) {
  const lines = [];
  for (const level of m.throughput) {
    const { orders, transfers, inFlight } = level;
    const share = (100 * orders.crossed) / (orders.acked || 1);
    const ratio = orders.perSecond / transfers.perSecond;
    lines.push(
      `(b) ${inFlight} in flight: place_order ÷ transfer = ${ratio.toFixed(4)}; ` +
        `${count(orders.acked)} orders acked, ${share.toFixed(1)} % of them crossed and traded ` +
        `(${count(orders.crossingSent - orders.crossed)} crossing orders found nothing to take, ${orders.selfTrades} self-trades); ` +
        `${count(transfers.acked)} transfers acked`,
    );
    for (const [side, result] of [
      ['place_order', orders],
      ['transfer', transfers],
    ]) {
      if (Object.keys(result.refusals).length > 0) {
        lines.push(`refused (${inFlight} in flight, ${side}): ${JSON.stringify(result.refusals)}`);
      }
    }
  }
  const { publish, bare } = m.fanOut;
  for (const [name, side] of [
    ['cashier', publish],
    ['bare', bare],
  ]) {
    const frames = side.unexpectedFrames;
    if (frames > 0) lines.push(`(c) ${name}: ${frames} frames that were not the awaited event`);
  }
  lines.push(
    `ledger after the run: admin check ${ledger.balanced ? 'finds no problem' : `finds ${ledger.problems?.length} problems`}; ` +
      `requests answered INTERNAL: ${internals.length}`,
  );
  lines.push(
    `${cpus().length} CPUs; ${count(PARAMS.users)} users; (c) ${count(PARAMS.fanOut.rounds)} events per side and ` +
      `${count(PARAMS.fanOut.tradeRounds)} trades; 1-minute load average ${load.start.toFixed(2)} at the start of the ` +
      `measurements, ${load.end.toFixed(2)} at the end; service started as \`node ${[...m.nodeArgs, '<dist>/src/main.js'].join(' ')}\``,
  );
  return lines.join('\n');
}

async function main(abort) {
  const startedAt = new Date().toISOString();
  checkOpenFileLimit(MIN_OPEN_FILES, "the bench's sockets");
  const loadAtStart = loadavg()[0];

  // (a) first, while nothing else of the run is up.
  log('(a) the engine in process, against nodejs-order-book');
  const { engine } = loadEngine(ROOT);
  const engineResult = measureEngine({ engine, say: (line) => log(`(a) ${line}`) });

  const run = await prepareRun(ROOT);
  log(`run ${run.redisPrefix}: dist ${run.dist}`);
  const cashier = keepRunning(
    'cashier',
    await startCashier(run, {
      log,
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, DATABASE_POOL_SIZE: String(PARAMS.poolSize) },
    }),
    abort,
  );
  const bare = keepRunning('bare server', await startBareServer(run, { log }), abort);
  const publisher = await createPublisher(run);
  onCleanup('close publisher', publisher.close);
  const emitter = createBareEmitter(run);
  onCleanup('close bare emitter', emitter.close);

  log(`creating ${PARAMS.users} users`);
  const users = await createUsers(cashier.url, run.redisPrefix, PARAMS.users, { password: PASSWORD, log });
  const adminToken = await logIn(cashier.url, ADMIN.email, ADMIN.password);
  log(`funding ${PARAMS.users} users with ${PARAMS.funding.BTC} BTC and ${PARAMS.funding.USD} USD`);
  for (const [currency, amount] of Object.entries(PARAMS.funding)) {
    await fundUsers(cashier.url, adminToken, users, currency, amount);
  }
  for (const [currency, amount] of Object.entries(PARAMS.fanOut.funding)) {
    await fundUsers(cashier.url, adminToken, users.slice(0, 2), currency, amount);
  }
  log(`opening ${PARAMS.users} user sockets`);
  const { sockets } = await openManyLean(cashier.url, users.length, (i) => ({
    auth: { token: users[i].token },
    readyEvent: 'connected',
  }));
  onCleanup('close user sockets', () => closeAllLean(sockets));
  for (const [i, user] of users.entries()) user.socket = sockets[i];

  const env = { run, cashier, bare, publisher, emitter, users };
  // (c) before (b): its latencies are then not taken while PostgreSQL digests (b)'s writes.
  const fanOutResult = await fanOut(env);

  log(`(b) seeding the ${PARAMS.orders.pair} book with ${PARAMS.orders.seedPerSide} resting orders per side`);
  await seedBook(users);
  env.ordersSide = ordersSide(users);
  env.transfersSide = transfersSide(users);
  const throughputResult = [await throughput(env, PARAMS.inFlight, PARAMS.rounds)];
  if (PARAMS.lowInFlight > 0) throughputResult.push(await throughput(env, PARAMS.lowInFlight, 1));
  const load = { start: loadAtStart, end: loadavg()[0] };

  log('checking the ledger');
  const ledger = await getJson(cashier.url, '/api/v1/admin/ledger/check', adminToken);
  const measurements = {
    engine: engineResult,
    throughput: throughputResult,
    fanOut: fanOutResult,
    nodeArgs: cashier.nodeArgs,
  };
  const rows = tableRows(measurements);
  const omit = ({ latencies: _latencies, ...rest }) => rest;
  const results = {
    run: runInfo(startedAt, run.dist, load),
    params: { ...PARAMS, engine: ENGINE_PARAMS, cashierNodeArgs: cashier.nodeArgs },
    targets: TARGETS,
    cashier_log_warnings: cashier.warnings,
    measurements: {
      engine: engineResult.results,
      throughput: throughputResult.map((l) => ({ ...l, orders: omit(l.orders), transfers: omit(l.transfers) })),
      fanOut: fanOutResult,
    },
    ledger,
    internal_errors: internals,
    rows,
  };
  process.stdout.write(`${markdownTable(rows, { baseline: 'baseline' })}\n\n`);
  process.stdout.write(`${cpuTable(measurements)}\n\n`);
  process.stdout.write(`${notes(measurements, ledger, load)}\n`);
  const path = await writeResults(join(ROOT, 'bench/results'), 'market', results);
  log(`results: ${path}`);
  if (!ledger.balanced) throw new Error(`the ledger check failed: ${JSON.stringify(ledger).slice(0, 2000)}`);
  if (internals.length > 0) throw new Error(`requests answered INTERNAL: ${JSON.stringify(internals).slice(0, 2000)}`);
}

await runMain(main);
