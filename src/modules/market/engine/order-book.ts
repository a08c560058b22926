// One pair's order book and its matching: price-time priority, fills at the maker's price,
// self-trade prevention by cancelling the newest (the taker). Pure and synchronous: no I/O, no clock.
import { BookSide, levelsChecksum, RestingOrder, topOf } from './book-side.js';
import { CHECKSUM_LEVELS } from './checksum.js';
import { assertPairRules, baseText, feeOf, quoteOf, quoteText, validateOrder } from './rules.js';
import type {
  CancelResult,
  Depth,
  Fill,
  LevelChange,
  OrderInput,
  OrderState,
  PairRules,
  PlaceResult,
  Refusal,
  RefusalCode,
  RestingOrderInput,
  Side,
} from './types.js';

const NONE: readonly never[] = Object.freeze([]);

export class OrderBook {
  private readonly bids = new BookSide('buy');
  private readonly asks = new BookSide('sell');
  private readonly orders = new Map<string, RestingOrder>();
  private nextSequence = 1n;
  /** Makers a placement traded with, in fill order; reused so matching allocates no array for it. */
  private readonly touched: RestingOrder[] = [];
  /**
   * The checksum until a change reaches the top levels it covers. Most orders rest, and most
   * cancels happen, away from the top, so publishing a checksum after each change stays cheap.
   */
  private checksumCache: number | undefined;

  constructor(readonly rules: PairRules) {
    assertPairRules(rules);
  }

  /** Resting orders in the book. */
  get size(): number {
    return this.orders.size;
  }

  /** Places `order`: validates it, matches it, and rests what a gtc limit order has left. */
  place(order: OrderInput): PlaceResult {
    return this.execute(order, true);
  }

  /** What `place` would answer now, leaving the book as it is (e.g. to price a market buy first). */
  simulate(order: OrderInput): PlaceResult {
    return this.execute(order, false);
  }

  /** Takes a resting order out of the book; undefined when it is not resting here. */
  cancel(orderId: string): CancelResult | undefined {
    const order = this.orders.get(orderId);
    if (order === undefined) return undefined;
    const level = order.level;
    this.noteChange(level.side, level.price);
    level.unlink(order);
    level.total -= order.remaining;
    this.orders.delete(orderId);
    if (level.head === null) this.sideOf(level.side).remove(level);
    return {
      order: restingState(order, order.remaining, 'cancelled'),
      level: { side: level.side, price: level.price, amount: level.total },
    };
  }

  /**
   * Loads resting orders read back from the database, in any order, without matching; the book
   * must be empty. Orders keep their sequence (FIFO within a level follows it). Later orders get
   * sequences above every restored one and at least `nextSequence`, so a caller that knows of
   * higher ones (orders that never rested) can keep sequences unique. Throws, loading nothing,
   * on anything a book could not have held: duplicates, non-resting orders, a crossed book.
   */
  restore(resting: Iterable<RestingOrderInput>, nextSequence = 1n): void {
    const symbol = this.rules.symbol;
    if (this.orders.size > 0) throw new Error(`restore needs an empty book; ${symbol} has ${this.size}`);
    const sorted = [...resting].sort((a, b) => (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0));
    checkRestorable(symbol, sorted);
    for (const order of sorted) this.rest(order, order.price as bigint, order.remaining, order.sequence);
    const afterLast = sorted.length > 0 ? sorted[sorted.length - 1].sequence + 1n : 1n;
    this.nextSequence = afterLast > nextSequence ? afterLast : nextSequence;
    this.checksumCache = undefined;
  }

  bestBid(): bigint | undefined {
    return this.bids.best()?.price;
  }

  bestAsk(): bigint | undefined {
    return this.asks.best()?.price;
  }

  /** The best `levels` levels of each side as [price, total]: bids highest first, asks lowest first. */
  depth(levels = Number.POSITIVE_INFINITY): Depth {
    return { bids: topOf(this.bids, levels), asks: topOf(this.asks, levels) };
  }

  /** The book's Kraken v2 checksum over its top 10 levels per side. */
  checksum(): number {
    this.checksumCache ??= levelsChecksum(this.asks.levels, this.bids.levels);
    return this.checksumCache;
  }

  /** A resting order's state, or undefined when it is not in the book. */
  get(orderId: string): OrderState | undefined {
    const order = this.orders.get(orderId);
    return order === undefined ? undefined : restingState(order, order.remaining, undefined);
  }

  /**
   * Matching in two steps: first walk the book and work out every fill without changing
   * anything, then (when committing) apply them. A refusal found on the walk (fok) therefore
   * leaves the book untouched, and simulate is the same walk without the second step.
   */
  private execute(input: OrderInput, commit: boolean): PlaceResult {
    const rules = this.rules;
    const invalid = validateOrder(rules, input);
    if (invalid !== undefined) return rejected(input, invalid);
    if (this.orders.has(input.id)) throw new Error(`order ${input.id} is already in the ${rules.symbol} book`);

    const isBuy = input.side === 'buy';
    const isMarket = input.type === 'market';
    const limit = input.price ?? 0n; // validated: set exactly for limit orders
    const opposite = isBuy ? this.asks : this.bids;
    const best = opposite.best();
    if (best === undefined && isMarket) {
      return refused(input, 'NO_LIQUIDITY', `no ${opposite.side} orders in the ${rules.symbol} book`);
    }
    if (input.postOnly && best !== undefined && (isBuy ? best.price <= limit : best.price >= limit)) {
      const against = `${isBuy ? 'best ask' : 'best bid'} ${quoteText(best.price, rules)}`;
      return refused(input, 'ORDER_WOULD_TAKE', `post_only order would take liquidity (${against})`);
    }

    const buyerFeePpm = isBuy ? rules.takerFeePpm : rules.makerFeePpm;
    const sellerFeePpm = isBuy ? rules.makerFeePpm : rules.takerFeePpm;
    const fills: Fill[] = [];
    const makers: OrderState[] = [];
    const levels: LevelChange[] = [];
    const touched = this.touched;
    let left = input.amount;
    let quoteAmount = 0n;
    let takerFee = 0n;
    let selfTrade = false;

    // The walk: best level first, oldest order first, until the taker is filled, the price no
    // longer crosses, or the next maker is the taker's own.
    for (let index = opposite.levels.length - 1; index >= 0 && left > 0n && !selfTrade; index--) {
      const level = opposite.levels[index];
      const price = level.price;
      if (!isMarket && (isBuy ? price > limit : price < limit)) break;
      let levelTotal = level.total;
      for (let maker = level.head; maker !== null && left > 0n; maker = maker.next) {
        if (maker.ownerId === input.ownerId) {
          selfTrade = true;
          break;
        }
        const qty = left < maker.remaining ? left : maker.remaining;
        const quote = quoteOf(price, qty);
        const buyerFee = feeOf(qty, buyerFeePpm);
        const sellerFee = feeOf(quote, sellerFeePpm);
        const makerRemaining = maker.remaining - qty;
        const makerStatus = makerRemaining === 0n ? 'filled' : 'partially_filled';
        fills.push({
          makerOrderId: maker.id,
          makerOwnerId: maker.ownerId,
          takerOrderId: input.id,
          takerOwnerId: input.ownerId,
          takerSide: input.side,
          price,
          qty,
          quoteAmount: quote,
          buyerFee,
          sellerFee,
          makerRemaining,
          makerStatus,
        });
        makers.push(restingState(maker, makerRemaining, makerStatus));
        touched.push(maker);
        left -= qty;
        levelTotal -= qty;
        quoteAmount += quote;
        takerFee += isBuy ? buyerFee : sellerFee;
      }
      if (levelTotal !== level.total) levels.push({ side: opposite.side, price, amount: levelTotal });
    }

    if (input.timeInForce === 'fok' && left > 0n) {
      touched.length = 0;
      const why = selfTrade
        ? 'it would trade with your own order'
        : `only ${baseText(input.amount - left, rules)} can be filled at once`;
      return refused(input, 'ORDER_NOT_FILLABLE', `fok order cannot be filled completely: ${why}`);
    }

    const rests = left > 0n && !selfTrade && !isMarket && input.timeInForce === 'gtc';
    if (rests) {
      const own = isBuy ? this.bids : this.asks;
      levels.push({ side: input.side, price: limit, amount: own.totalAt(limit) + left });
    }
    const sequence = this.nextSequence;
    if (commit) {
      if (fills.length > 0) this.checksumCache = undefined; // fills always take the best level
      this.applyFills(fills);
      this.nextSequence = sequence + 1n;
      if (rests) this.rest(input, limit, left, sequence);
    }
    touched.length = 0;

    const filled = input.amount - left;
    const order: OrderState = {
      id: input.id,
      ownerId: input.ownerId,
      side: input.side,
      type: input.type,
      price: input.price,
      amount: input.amount,
      filled,
      remaining: left,
      status: left === 0n ? 'filled' : rests ? (filled === 0n ? 'open' : 'partially_filled') : 'cancelled',
      reason: left === 0n || rests ? undefined : selfTrade ? 'self_trade' : 'immediate_or_cancel',
      sequence,
      timeInForce: input.timeInForce,
      postOnly: input.postOnly,
    };
    return { order, refusal: undefined, fills, makers, levels, quoteAmount, takerFee };
  }

  /** The second step: `touched[i]` traded `fills[i].qty`. Levels empty from the best, so pop() removes them. */
  private applyFills(fills: readonly Fill[]): void {
    const touched = this.touched;
    for (let i = 0; i < touched.length; i++) {
      const maker = touched[i];
      const level = maker.level;
      const qty = fills[i].qty;
      maker.remaining -= qty;
      level.total -= qty;
      if (maker.remaining === 0n) {
        level.unlink(maker);
        this.orders.delete(maker.id);
        if (level.head === null) this.sideOf(level.side).remove(level);
      }
    }
  }

  private rest(input: OrderInput, price: bigint, remaining: bigint, sequence: bigint): void {
    this.noteChange(input.side, price);
    const level = this.sideOf(input.side).levelAt(price);
    const order = new RestingOrder(input.id, input.ownerId, input.amount, remaining, sequence, input.postOnly, level);
    level.append(order);
    this.orders.set(input.id, order);
  }

  private noteChange(side: Side, price: bigint): void {
    if (this.checksumCache !== undefined && this.sideOf(side).isInTop(price, CHECKSUM_LEVELS)) {
      this.checksumCache = undefined;
    }
  }

  private sideOf(side: Side): BookSide {
    return side === 'buy' ? this.bids : this.asks;
  }
}

/** Throws unless `sorted` (by sequence) could be one book's resting orders. */
function checkRestorable(symbol: string, sorted: readonly RestingOrderInput[]): void {
  const ids = new Set<string>();
  let highestBid: bigint | undefined;
  let lowestAsk: bigint | undefined;
  for (const [index, order] of sorted.entries()) {
    const what = `restore ${symbol} order ${order.id}`;
    const { side, price } = order;
    if (side !== 'buy' && side !== 'sell') throw new Error(`${what}: side must be buy or sell`);
    if (order.type !== 'limit' || order.timeInForce !== 'gtc') throw new Error(`${what}: only gtc limit orders rest`);
    if (price === undefined || price <= 0n) throw new Error(`${what}: no positive price`);
    if (order.remaining <= 0n || order.remaining > order.amount) throw new Error(`${what}: remaining out of range`);
    if (ids.has(order.id)) throw new Error(`${what}: duplicate id`);
    if (index > 0 && sorted[index - 1].sequence === order.sequence) throw new Error(`${what}: duplicate sequence`);
    ids.add(order.id);
    if (side === 'buy' && (highestBid === undefined || price > highestBid)) highestBid = price;
    if (side === 'sell' && (lowestAsk === undefined || price < lowestAsk)) lowestAsk = price;
  }
  if (highestBid !== undefined && lowestAsk !== undefined && highestBid >= lowestAsk) {
    throw new Error(`restore ${symbol}: crossed book (bid ${highestBid} ≥ ask ${lowestAsk})`);
  }
}

/** A resting order's state with `remaining` left; status from the fills unless given. */
function restingState(order: RestingOrder, remaining: bigint, status: OrderState['status'] | undefined): OrderState {
  const filled = order.amount - remaining;
  return {
    id: order.id,
    ownerId: order.ownerId,
    side: order.level.side,
    type: 'limit',
    price: order.level.price,
    amount: order.amount,
    filled,
    remaining,
    status: status ?? (filled === 0n ? 'open' : 'partially_filled'),
    reason: undefined,
    sequence: order.sequence,
    timeInForce: 'gtc',
    postOnly: order.postOnly,
  };
}

const refused = (input: OrderInput, code: RefusalCode, message: string): PlaceResult =>
  rejected(input, { code, message });

/** Nothing happened: no sequence, no fills, the whole amount unfilled. */
function rejected(input: OrderInput, refusal: Refusal): PlaceResult {
  return {
    order: {
      id: input.id,
      ownerId: input.ownerId,
      side: input.side,
      type: input.type,
      price: input.price,
      amount: input.amount,
      filled: 0n,
      remaining: input.amount,
      status: 'rejected',
      reason: refusal.code,
      sequence: undefined,
      timeInForce: input.timeInForce,
      postOnly: input.postOnly,
    },
    refusal,
    fills: NONE,
    makers: NONE,
    levels: NONE,
    quoteAmount: 0n,
    takerFee: 0n,
  };
}
