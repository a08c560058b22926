// Random operation sequences on the book against a deliberately naive model (one array, linear
// scans, sort on every use): after every step both must agree and the book's invariants hold.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bookChecksum } from './checksum.js';
import { OrderBook } from './order-book.js';
import { buyLock, validateOrder } from './rules.js';
import type { Depth, Fill, OrderInput, OrderState, PairRules, PlaceResult, Side } from './types.js';

/** Small prices and amounts, so that orders cross, levels pile up and fills are often partial. */
const RULES: PairRules = {
  symbol: 'BTC-EUR',
  base: 'BTC',
  quote: 'EUR',
  quoteDecimals: 2,
  baseDecimals: 8,
  priceTick: 5n,
  amountStep: 1000n,
  minAmount: 1000n,
  maxAmount: 12_000n,
  makerFeePpm: 1000n,
  takerFeePpm: 2000n,
};
const OWNERS = ['ann', 'ben', 'cat'];

interface ModelOrder {
  id: string;
  ownerId: string;
  side: Side;
  price: bigint;
  amount: bigint;
  remaining: bigint;
  sequence: number;
}

interface ModelFill {
  maker: ModelOrder;
  qty: bigint;
}

/** The same rules, written the plainest way: filter, sort, walk, then copy the changes back. */
class ModelBook {
  orders: ModelOrder[] = [];
  private sequence = 0;

  place(input: OrderInput): { status: OrderState['status']; reason: string | undefined; fills: ModelFill[] } {
    const invalid = validateOrder(RULES, input);
    if (invalid) return { status: 'rejected', reason: invalid.code, fills: [] };
    const isBuy = input.side === 'buy';
    const crosses = (maker: ModelOrder) =>
      input.type === 'market' || (isBuy ? maker.price <= input.price! : maker.price >= input.price!);
    const opposite = this.orders
      .filter((o) => o.side !== input.side)
      .sort((x, y) => (x.price === y.price ? x.sequence - y.sequence : x.price < y.price === isBuy ? -1 : 1));
    if (input.type === 'market' && opposite.length === 0) {
      return { status: 'rejected', reason: 'NO_LIQUIDITY', fills: [] };
    }
    if (input.postOnly && opposite.some(crosses)) return { status: 'rejected', reason: 'ORDER_WOULD_TAKE', fills: [] };

    const fills: ModelFill[] = [];
    let left = input.amount;
    let selfTrade = false;
    for (const maker of opposite) {
      if (left === 0n || !crosses(maker)) break;
      if (maker.ownerId === input.ownerId) {
        selfTrade = true;
        break;
      }
      const qty = maker.remaining < left ? maker.remaining : left;
      fills.push({ maker, qty });
      left -= qty;
    }
    if (input.timeInForce === 'fok' && left > 0n) {
      return { status: 'rejected', reason: 'ORDER_NOT_FILLABLE', fills: [] };
    }

    for (const { maker, qty } of fills) maker.remaining -= qty;
    this.orders = this.orders.filter((o) => o.remaining > 0n);
    this.sequence++;
    if (left === 0n) return { status: 'filled', reason: undefined, fills };
    if (selfTrade) return { status: 'cancelled', reason: 'self_trade', fills };
    if (input.type === 'market' || input.timeInForce !== 'gtc') {
      return { status: 'cancelled', reason: 'immediate_or_cancel', fills };
    }
    this.orders.push({ ...input, price: input.price!, remaining: left, sequence: this.sequence });
    return { status: left === input.amount ? 'open' : 'partially_filled', reason: undefined, fills };
  }

  cancel(id: string): ModelOrder | undefined {
    const found = this.orders.find((o) => o.id === id);
    this.orders = this.orders.filter((o) => o.id !== id);
    return found;
  }

  /** Totals per price: bids highest first, asks lowest first. */
  depth(): Depth {
    const side = (which: Side) => {
      const totals = new Map<bigint, bigint>();
      for (const o of this.orders.filter((x) => x.side === which)) {
        totals.set(o.price, (totals.get(o.price) ?? 0n) + o.remaining);
      }
      const sorted = [...totals.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
      return which === 'buy' ? sorted.reverse() : sorted;
    };
    return { bids: side('buy'), asks: side('sell') };
  }
}

/** Half-up written differently from the engine: compare the remainder with one half. */
const feeByHand = (received: bigint, ppm: bigint) => {
  const scaled = received * ppm;
  return scaled / 1_000_000n + (scaled % 1_000_000n >= 500_000n ? 1n : 0n);
};

/** true about once in `n`. */
const oneIn = (n: number) => fc.integer({ min: 1, max: n }).map((k) => k === 1);

/** A price of `from`..`to` ticks of 5. */
const ticks = (from: number, to: number) => fc.integer({ min: from, max: to }).map((t) => BigInt(t) * 5n);

const placeArb = fc.record({
  kind: fc.constant('place' as const),
  ownerId: fc.constantFrom(...OWNERS),
  side: fc.constantFrom<Side>('buy', 'sell'),
  market: oneIn(5),
  // Mostly a narrow band around 1000 (10.00 EUR), so that most orders meet others.
  price: fc.oneof(
    { weight: 14, arbitrary: ticks(195, 205) },
    { weight: 6, arbitrary: ticks(180, 220) }, // deeper books: changes below the checksum's top 10
    { weight: 1, arbitrary: fc.constant(1002n) }, // off the tick
  ),
  amount: fc.oneof(
    { weight: 20, arbitrary: fc.integer({ min: 1, max: 12 }).map((s) => BigInt(s) * 1000n) },
    {
      weight: 1,
      arbitrary: fc.constant(1500n),
    },
  ),
  timeInForce: fc.constantFrom<OrderInput['timeInForce']>('gtc', 'gtc', 'gtc', 'gtc', 'ioc', 'fok'),
  postOnly: oneIn(6),
});
const cancelArb = fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() });
const opsArb = fc.array(fc.oneof({ weight: 3, arbitrary: placeArb }, { weight: 1, arbitrary: cancelArb }), {
  minLength: 1,
  maxLength: 80,
  size: 'max', // lengths spread over 1..80, not bunched at small ones: books need time to fill up
});

describe('order book against a naive model', () => {
  it('agrees with the model and keeps its invariants after every operation', () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        const book = new OrderBook(RULES);
        const model = new ModelBook();
        const ids: string[] = [];
        let lastSequence = 0n;
        let before = model.depth();
        for (const [step, op] of ops.entries()) {
          if (op.kind === 'cancel') {
            const id = ids.length > 0 ? ids[op.pick % ids.length] : 'none';
            const expected = model.cancel(id);
            const result = book.cancel(id);
            holds((result === undefined) === (expected === undefined), `cancel ${id}: resting in one book only`);
            if (result !== undefined) {
              same(
                [result.order.id, result.order.status, result.order.remaining],
                [id, 'cancelled', expected!.remaining],
              );
              checkTotals(result.order);
              checkLevels([result.level], before, model.depth());
            }
          } else {
            const input: OrderInput = {
              id: `o${step}`,
              ownerId: op.ownerId,
              side: op.side,
              type: op.market ? 'market' : 'limit',
              price: op.market ? undefined : op.price,
              amount: op.amount,
              timeInForce: op.timeInForce,
              postOnly: op.postOnly,
            };
            ids.push(input.id);
            const simulated = book.simulate(input);
            const result = book.place(input);
            same(result, simulated);
            const expected = model.place(input);
            checkPlacement(input, result, expected, before, model.depth());
            if (result.order.sequence !== undefined) {
              holds(result.order.sequence > lastSequence, 'sequences increase');
              lastSequence = result.order.sequence;
            }
            const rests = result.order.status === 'open' || result.order.status === 'partially_filled';
            holds((book.get(input.id) !== undefined) === rests, `${input.id} rests exactly when open`);
          }
          const after = model.depth();
          same(book.depth(), after);
          holds(book.checksum() === bookChecksum(after), 'checksum equals the one of the model book');
          holds(book.size === model.orders.length, 'as many resting orders as the model');
          const [bid, ask] = [book.bestBid(), book.bestAsk()];
          holds(bid === undefined || ask === undefined || bid < ask, 'the book is never crossed');
          before = after;
        }
        checkRestore(book, ids, lastSequence + 1n);
      }),
      { numRuns: 3000 },
    );
    // 3,000 runs take ~2 s alone, several times that on a machine busy with the other suites.
  }, 60_000);
});

/**
 * A book restored from the resting orders' states (given newest first) holds the same levels and
 * matches the same way, sequence included when the caller passes on the next one.
 */
function checkRestore(book: OrderBook, ids: readonly string[], nextSequence: bigint): void {
  const resting = ids.flatMap((id) => {
    const state = book.get(id);
    return state === undefined ? [] : [{ ...state, price: state.price!, sequence: state.sequence! }];
  });
  const restored = new OrderBook(RULES);
  restored.restore(resting.reverse(), nextSequence);
  same(restored.depth(), book.depth());
  for (const side of ['buy', 'sell'] as const) {
    const sweep: OrderInput = {
      id: `sweep-${side}`,
      ownerId: 'sweeper',
      side,
      type: 'market',
      amount: RULES.maxAmount,
      timeInForce: 'ioc',
      postOnly: false,
    };
    same(restored.simulate(sweep), book.simulate(sweep));
  }
}

/** Serialises bigints too, so that deep equality is one string comparison when all is well. */
const text = (value: unknown) => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

/** Deep equality checked cheaply; on a difference, expect shows it in full. */
function same(actual: unknown, expected: unknown): void {
  if (text(actual) !== text(expected)) expect(actual).toEqual(expected);
}

/** expect() on every check would be most of the run time; it is only called when a check fails. */
function holds(condition: boolean, what: string): void {
  if (!condition) expect.fail(what);
}

function checkPlacement(
  input: OrderInput,
  result: PlaceResult,
  expected: ReturnType<ModelBook['place']>,
  before: Depth,
  after: Depth,
): void {
  const { order, fills } = result;
  same([order.status, order.reason], [expected.status, expected.reason]);
  holds((result.refusal !== undefined) === (order.status === 'rejected'), 'a refusal exactly when rejected');
  checkTotals(order);
  // Price-time priority: the same makers, in the same order, for the same quantities, at their prices.
  same(
    fills.map((f) => [f.makerOrderId, f.price, f.qty]),
    expected.fills.map(({ maker, qty }) => [maker.id, maker.price, qty]),
  );
  holds(order.filled === fills.reduce((sum, f) => sum + f.qty, 0n), 'filled is the sum of the fills');
  if (input.timeInForce === 'fok') {
    holds(order.status === 'filled' || order.status === 'rejected', 'fok: all or nothing');
  }
  if (input.postOnly) holds(fills.length === 0, 'post_only never takes');
  if (order.status === 'rejected') same(after, before);
  holds(result.makers.length === fills.length, 'one maker state per fill');
  for (const [i, fill] of fills.entries()) {
    checkFill(input, fill);
    const maker = result.makers[i];
    same([maker.id, maker.status, maker.remaining], [fill.makerOrderId, fill.makerStatus, fill.makerRemaining]);
    checkTotals(maker);
  }
  holds(result.quoteAmount === fills.reduce((sum, f) => sum + f.quoteAmount, 0n), 'quoteAmount sums the fills');
  if (input.side === 'buy' && input.type === 'limit') {
    holds(result.quoteAmount <= buyLock(input.price!, input.amount), 'a limit buy never costs more than it locked');
  }
  checkLevels(result.levels, before, after);
}

/** A fill: different owners, the quote rounded down, each fee half-up in what its side receives. */
function checkFill(input: OrderInput, fill: Fill): void {
  holds(fill.makerOwnerId !== fill.takerOwnerId, 'no fill between orders of one owner');
  same([fill.takerOrderId, fill.takerOwnerId, fill.takerSide], [input.id, input.ownerId, input.side]);
  const gross = fill.price * fill.qty;
  holds(fill.quoteAmount === (gross - (gross % 100_000_000n)) / 100_000_000n, 'quote = floor(price × qty / 10^8)');
  const takerBuys = input.side === 'buy';
  holds(fill.buyerFee === feeByHand(fill.qty, takerBuys ? RULES.takerFeePpm : RULES.makerFeePpm), 'buyer fee');
  holds(
    fill.sellerFee === feeByHand(fill.quoteAmount, takerBuys ? RULES.makerFeePpm : RULES.takerFeePpm),
    'seller fee',
  );
  // Each side receives what it trades for less its fee, never less than nothing.
  holds(fill.buyerFee <= fill.qty && fill.sellerFee <= fill.quoteAmount, 'a fee never exceeds what it is taken from');
}

function checkTotals(order: OrderState): void {
  holds(order.filled + order.remaining === order.amount, `${order.id}: filled + remaining = amount`);
  holds(order.filled >= 0n && order.remaining >= 0n, `${order.id}: nothing negative`);
}

/** Exactly the levels whose totals changed, once each, with their totals after the operation. */
function checkLevels(levels: PlaceResult['levels'], before: Depth, after: Depth): void {
  const totals = (depth: Depth) =>
    new Map([
      ...depth.bids.map(([price, amount]) => [`buy ${price}`, amount] as const),
      ...depth.asks.map(([price, amount]) => [`sell ${price}`, amount] as const),
    ]);
  const [was, now] = [totals(before), totals(after)];
  const changed = [...new Set([...was.keys(), ...now.keys()])].filter((key) => was.get(key) !== now.get(key));
  const reported = levels.map((l) => `${l.side} ${l.price}`);
  same([...reported].sort(), changed.sort()); // also: no level twice
  for (const level of levels) holds(level.amount === (now.get(`${level.side} ${level.price}`) ?? 0n), 'level total');
}
