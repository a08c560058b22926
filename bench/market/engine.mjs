// Matching-engine benchmark: operations per second of the compiled cashier order book, in process,
// against nodejs-order-book 10.1.1 on the same seeded operation stream, in one run.
//
//   npx nest build && node bench/market/engine.mjs
//   CASHIER_DIST=.bench-dist node bench/market/engine.mjs
//
// The stream: a book seeded with passive limit orders (not timed), then 60 % limit orders around a
// fixed mid price (a tenth of them priced through it), 20 % cancels of orders resting at that
// moment, 20 % takers (half market orders, half ioc limits through the mid). Prices on the 0.01
// tick, amounts on the 0.0001 BTC step. Each order has its own owner, so self-trade prevention never
// fires and both books must end the same (checked after every pass). A pass runs the whole stream
// on a fresh book; a block repeats passes for at least `blockSeconds`. One block each warms up, then
// rounds of blocks alternate (cashier, baseline, baseline, cashier), so load from other processes
// falls on both alike. A third kind of block, cashier computing the book checksum after every
// operation (what publishing depth updates costs), is shown for context.
//
// Prints a markdown table and writes bench/results/market-engine-<timestamp>.json and
// market-engine-latest.json. `measureEngine` is exported for bench/market/run.mjs.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OrderBook as BaselineBook } from 'nodejs-order-book';
import { log, runInfo, runMain } from '../support/lifecycle.mjs';
import { contextRow, judgedRow, markdownTable, writeResults } from '../support/report.mjs';
import { msSince } from '../support/stats.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BASELINE = 'nodejs-order-book 10.1.1';

export const PARAMS = {
  seed: Number(process.env.BENCH_MARKET_SEED ?? 20_000),
  /** Passive limit orders placed before the timed part, so the book has depth from the start. */
  seedOrders: 5_000,
  /** Timed operations per pass. */
  operations: Number(process.env.BENCH_MARKET_OPERATIONS ?? 200_000),
  /** Measured rounds of blocks: cashier, baseline, baseline, cashier, cashier with checksums. */
  rounds: Number(process.env.BENCH_MARKET_ROUNDS ?? 3),
  /** A block repeats whole passes (a fresh book each) until it has run this long. */
  blockSeconds: Number(process.env.BENCH_MARKET_BLOCK_SECONDS ?? 1),
  /** 20000.00 EUR in minor units. */
  mid: 2_000_000,
  /** Mean distance of a passive price from the mid, in ticks (0.01 EUR). */
  passiveTicks: 100,
  /** How far through the mid an aggressive price may go, in ticks. */
  aggressiveTicks: 30,
  /** Mean amount of limit and taker orders, in steps of 0.0001 BTC: 0.02 and 0.05 BTC. */
  limitSteps: 200,
  takerSteps: 500,
};
const TARGET_OPS = 100_000;

const RULES = {
  symbol: 'BTC-EUR',
  base: 'BTC',
  quote: 'EUR',
  quoteDecimals: 2,
  baseDecimals: 8,
  priceTick: 1n,
  amountStep: 10_000n,
  minAmount: 10_000n,
  maxAmount: 100_000_000_000n,
  makerFeePpm: 1000n,
  takerFeePpm: 2000n,
};

/** The compiled engine in CASHIER_DIST (default dist), relative to the repository. */
export function loadEngine(root = ROOT) {
  const dist = resolve(root, process.env.CASHIER_DIST ?? 'dist');
  const entry = join(dist, 'src/modules/market/engine/index.js');
  if (!existsSync(entry)) throw new Error(`${entry} not found: build first (npx nest build), or set CASHIER_DIST`);
  return { dist, engine: createRequire(import.meta.url)(entry) };
}

/** mulberry32: a small seeded generator, so every run and both books see the same stream. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The operation stream, each operation ready for both books (built before timing, so neither pays
 * for it). A cashier book follows along while generating, so that cancels pick orders that rest
 * at that moment.
 */
export function generateStream(engine, params = PARAMS) {
  const rand = random(params.seed);
  const exponential = (mean) => Math.floor(-Math.log(1 - rand()) * mean);
  const book = new engine.OrderBook(RULES);
  const resting = [];
  const slot = new Map();
  const forget = (id) => {
    const index = slot.get(id);
    if (index === undefined) return;
    const last = resting.pop();
    if (last !== id) {
      resting[index] = last;
      slot.set(last, index);
    }
    slot.delete(id);
  };
  let count = 0;
  const counts = { limit: 0, cancel: 0, market: 0, ioc: 0, fills: 0 };

  const order = (type, side, price, steps, timeInForce) => {
    const id = `o${++count}`;
    const amount = BigInt(Math.min(steps, 5_000) * 10_000);
    const cashier = { id, ownerId: id, side, type, price, amount, timeInForce, postOnly: false };
    const result = book.place(cashier);
    counts.fills += result.fills.length;
    for (const fill of result.fills) if (fill.makerStatus === 'filled') forget(fill.makerOrderId);
    if (result.order.status === 'open' || result.order.status === 'partially_filled') {
      slot.set(id, resting.length);
      resting.push(id);
    }
    const size = Number(amount);
    const baseline =
      type === 'market'
        ? { method: 'market', options: { side, size } }
        : {
            method: 'limit',
            options: { id, side, size, price: Number(price), timeInForce: timeInForce.toUpperCase() },
          };
    return { kind: 'place', cashier, baseline };
  };
  const side = () => (rand() < 0.5 ? 'buy' : 'sell');
  /** Passive: on its own side of the mid. Through: up to aggressiveTicks across it. */
  const priceFor = (which, through) => {
    const ticks = through ? -1 - Math.floor(rand() * params.aggressiveTicks) : 1 + exponential(params.passiveTicks);
    return BigInt(which === 'buy' ? params.mid - ticks : params.mid + ticks);
  };
  const passive = () => {
    const which = side();
    return order('limit', which, priceFor(which, false), 1 + exponential(params.limitSteps), 'gtc');
  };

  const seed = Array.from({ length: params.seedOrders }, passive);
  const timed = [];
  for (let i = 0; i < params.operations; i++) {
    const roll = rand();
    if (roll < 0.6) {
      const which = side();
      counts.limit++;
      timed.push(order('limit', which, priceFor(which, rand() < 0.1), 1 + exponential(params.limitSteps), 'gtc'));
    } else if (roll < 0.8 && resting.length > 0) {
      const id = resting[Math.floor(rand() * resting.length)];
      book.cancel(id);
      forget(id);
      counts.cancel++;
      timed.push({ kind: 'cancel', id });
    } else if (roll < 0.9) {
      counts.market++;
      timed.push(order('market', side(), undefined, 1 + exponential(params.takerSteps), 'ioc'));
    } else {
      const which = side();
      counts.ioc++;
      timed.push(order('limit', which, priceFor(which, true), 1 + exponential(params.takerSteps), 'ioc'));
    }
  }
  const depth = book.depth();
  return {
    seed,
    timed,
    stats: { ...counts, restingAtEnd: book.size, bidLevels: depth.bids.length, askLevels: depth.asks.length },
    finalBook: depthText(depth.bids, depth.asks),
  };
}

/** A book as text, for comparing the two implementations' final books. */
const perSecond = (operations, ms) => Math.round((operations * 1000) / ms).toLocaleString('en-US');

const depthText = (bids, asks) => JSON.stringify({ bids, asks }, (_key, v) => (typeof v === 'bigint' ? Number(v) : v));

const SIDES = {
  cashier(engine, stream, withChecksum) {
    const book = new engine.OrderBook(RULES);
    for (const op of stream.seed) book.place(op.cashier);
    const start = process.hrtime.bigint();
    for (const op of stream.timed) {
      if (op.kind === 'cancel') book.cancel(op.id);
      else book.place(op.cashier);
      if (withChecksum) book.checksum();
    }
    const ms = msSince(start);
    const depth = book.depth();
    return { ms, book: depthText(depth.bids, depth.asks) };
  },
  baseline(_engine, stream) {
    const book = new BaselineBook();
    for (const op of stream.seed) book.limit(op.baseline.options);
    const start = process.hrtime.bigint();
    for (const op of stream.timed) {
      if (op.kind === 'cancel') book.cancel(op.id);
      else if (op.baseline.method === 'limit') book.limit(op.baseline.options);
      else book.market(op.baseline.options);
    }
    const ms = msSince(start);
    const [asks, bids] = book.depth(); // asks lowest first, bids highest first, as cashier's
    return { ms, book: depthText(bids, asks) };
  },
};

/**
 * Runs the measurement and returns { rows, results }: operations per second of each side over its
 * measured passes (total operations ÷ total time), with every pass recorded.
 */
export function measureEngine({ engine, params = PARAMS, say = log } = {}) {
  say(`generating ${params.seedOrders} + ${params.operations} operations (seed ${params.seed})`);
  const stream = generateStream(engine, params);
  say(`stream: ${JSON.stringify(stream.stats)}`);
  const passes = [];
  const block = (name, withChecksum, measured) => {
    let ms = 0;
    let count = 0;
    while (ms < params.blockSeconds * 1000) {
      const run = name === 'baseline' ? SIDES.baseline(engine, stream) : SIDES.cashier(engine, stream, withChecksum);
      if (run.book !== stream.finalBook) throw new Error(`${name} ended with a different book than the stream's`);
      passes.push({ name, withChecksum, measured, ms: run.ms });
      ms += run.ms;
      count++;
    }
    const label = `${name}${withChecksum ? ' + checksum' : ''}`;
    say(
      `${measured ? 'measured' : 'warm-up '} ${label}: ${count} pass${count === 1 ? '' : 'es'}, ${perSecond(count * params.operations, ms)} ops/s`,
    );
  };
  block('cashier', false, false);
  block('baseline', false, false);
  block('cashier', true, false);
  for (let round = 0; round < params.rounds; round++) {
    block('cashier', false, true);
    block('baseline', false, true);
    block('baseline', false, true);
    block('cashier', false, true);
    block('cashier', true, true);
  }
  const rate = (name, withChecksum) => {
    const mine = passes.filter((p) => p.measured && p.name === name && p.withChecksum === withChecksum);
    return (mine.length * params.operations * 1000) / mine.reduce((sum, p) => sum + p.ms, 0);
  };
  const cashier = rate('cashier', false);
  const baseline = rate('baseline', false);
  const rows = [
    judgedRow(
      'mixed stream: operations/s',
      'ops/s',
      cashier,
      baseline,
      `≥ ${TARGET_OPS.toLocaleString('en-US')}/s`,
      cashier >= TARGET_OPS,
    ),
    contextRow(
      'mixed stream + checksum after every operation (baseline: none)',
      'ops/s',
      rate('cashier', true),
      baseline,
    ),
  ];
  return { rows, results: { params, stream: stream.stats, passes, rows } };
}

async function main() {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg()[0];
  const { dist, engine } = loadEngine();
  const { rows, results } = measureEngine({ engine });
  const load = { start: loadAtStart, end: loadavg()[0] };
  process.stdout.write(`${markdownTable(rows, { baseline: BASELINE })}\n\n`);
  process.stdout.write(
    `${PARAMS.operations.toLocaleString('en-US')} timed operations per pass on a book seeded with ` +
      `${PARAMS.seedOrders.toLocaleString('en-US')} orders (not timed); ${PARAMS.rounds} rounds of ${PARAMS.blockSeconds} s ` +
      `blocks, 2 per side and 1 with checksums per round; both books ended every pass the same. ${cpus().length} CPUs, ` +
      `1-minute load average ${load.start.toFixed(2)} at the start, ${load.end.toFixed(2)} at the end; node ${process.version}\n`,
  );
  const path = await writeResults(join(ROOT, 'bench/results'), 'market-engine', {
    run: { ...runInfo(startedAt, dist, load), node_args: process.execArgv },
    ...results,
  });
  log(`results: ${path}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await runMain(main);
