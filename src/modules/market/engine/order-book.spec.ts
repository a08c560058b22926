// What each kind of placement, a cancel and a restore do to a BTC-EUR book and what they report.
import { beforeEach, describe, expect, it } from 'vitest';
import { parseScaled } from '../../../shared/decimal.js';
import { bookChecksum } from './checksum.js';
import { OrderBook } from './order-book.js';
import type { OrderInput, PairRules, RestingOrderInput, Side } from './types.js';

const RULES: PairRules = {
  symbol: 'BTC-EUR',
  base: 'BTC',
  quote: 'EUR',
  quoteDecimals: 2,
  baseDecimals: 8,
  priceTick: 1n,
  amountStep: 1n,
  minAmount: 10_000n,
  maxAmount: 100_000_000_000n,
  makerFeePpm: 1000n, // 0.10 %
  takerFeePpm: 2000n, // 0.20 %
};

const eur = (text: string) => parseScaled(text, 2);
const btc = (text: string) => parseScaled(text, 8);

let book: OrderBook;
let count: number;
beforeEach(() => {
  book = new OrderBook(RULES);
  count = 0;
});

type Extra = Partial<Pick<OrderInput, 'id' | 'timeInForce' | 'postOnly'>>;

/** A limit order "o<n>"; prices and amounts as decimals for reading. */
const limit = (ownerId: string, side: Side, price: string, amount: string, extra: Extra = {}): OrderInput => ({
  id: `o${++count}`,
  ownerId,
  side,
  type: 'limit',
  price: eur(price),
  amount: btc(amount),
  timeInForce: 'gtc',
  postOnly: false,
  ...extra,
});

const market = (ownerId: string, side: Side, amount: string, extra: Extra = {}): OrderInput => ({
  id: `o${++count}`,
  ownerId,
  side,
  type: 'market',
  amount: btc(amount),
  timeInForce: 'ioc',
  postOnly: false,
  ...extra,
});

/** The book as [price, amount] decimals, for reading. */
const shown = () => {
  const depth = book.depth();
  const show = ([price, amount]: [bigint, bigint]) => [Number(price) / 100, Number(amount) / 1e8];
  return { bids: depth.bids.map(show), asks: depth.asks.map(show) };
};

/** Everything observable about the book, to check a refusal changed nothing. */
const snapshot = () => ({ depth: book.depth(), checksum: book.checksum(), size: book.size });

describe('a gtc limit order', () => {
  it('rests when nothing crosses it, with the next sequence', () => {
    const result = book.place(limit('alice', 'buy', '20000.00', '0.5'));
    expect(result.order).toMatchObject({ status: 'open', filled: 0n, remaining: btc('0.5'), sequence: 1n });
    expect(result.fills).toEqual([]);
    expect(result.levels).toEqual([{ side: 'buy', price: eur('20000.00'), amount: btc('0.5') }]);
    expect(book.place(limit('alice', 'buy', '20000.00', '0.25')).order.sequence).toBe(2n);
    expect(shown()).toEqual({ bids: [[20000, 0.75]], asks: [] });
    expect(book.get('o1')).toMatchObject({ status: 'open', remaining: btc('0.5'), sequence: 1n });
    expect(book.bestBid()).toBe(eur('20000.00'));
    expect(book.bestAsk()).toBeUndefined();
  });

  it('takes the best price first, oldest first within a price, each fill at the maker price', () => {
    book.place(limit('bob', 'sell', '20001.00', '0.3')); // o1
    book.place(limit('carol', 'sell', '20001.00', '0.3')); // o2
    book.place(limit('dave', 'sell', '20000.50', '0.2')); // o3: better price, later
    book.place(limit('erin', 'sell', '20002.00', '1')); // o4: beyond the buyer's limit

    const result = book.place(limit('alice', 'buy', '20001.50', '0.6'));

    expect(result.fills.map((f) => [f.makerOrderId, f.price, f.qty])).toEqual([
      ['o3', eur('20000.50'), btc('0.2')],
      ['o1', eur('20001.00'), btc('0.3')],
      ['o2', eur('20001.00'), btc('0.1')],
    ]);
    expect(result.order).toMatchObject({ status: 'filled', filled: btc('0.6'), remaining: 0n, reason: undefined });
    expect(result.makers.map((m) => [m.id, m.status, m.filled, m.remaining])).toEqual([
      ['o3', 'filled', btc('0.2'), 0n],
      ['o1', 'filled', btc('0.3'), 0n],
      ['o2', 'partially_filled', btc('0.1'), btc('0.2')],
    ]);
    // One entry per level, its final total, in the order the levels changed.
    expect(result.levels).toEqual([
      { side: 'sell', price: eur('20000.50'), amount: 0n },
      { side: 'sell', price: eur('20001.00'), amount: btc('0.2') },
    ]);
    expect(shown()).toEqual({
      bids: [],
      asks: [
        [20001, 0.2],
        [20002, 1],
      ],
    });
    expect(book.get('o3')).toBeUndefined();
    expect(book.get('o2')).toMatchObject({ status: 'partially_filled', filled: btc('0.1') });
  });

  it('rests what it could not fill, at its own price', () => {
    book.place(limit('bob', 'sell', '20000.00', '0.2'));
    const result = book.place(limit('alice', 'buy', '20001.00', '0.5'));
    expect(result.order).toMatchObject({ status: 'partially_filled', filled: btc('0.2'), remaining: btc('0.3') });
    expect(result.levels).toEqual([
      { side: 'sell', price: eur('20000.00'), amount: 0n },
      { side: 'buy', price: eur('20001.00'), amount: btc('0.3') },
    ]);
    expect(shown()).toEqual({ bids: [[20001, 0.3]], asks: [] });
    expect(book.get(result.order.id)).toMatchObject({ status: 'partially_filled', remaining: btc('0.3') });
  });

  it('reports the level total including what already rested there', () => {
    book.place(limit('bob', 'buy', '19990.00', '1'));
    const result = book.place(limit('carol', 'buy', '19990.00', '0.5'));
    expect(result.levels).toEqual([{ side: 'buy', price: eur('19990.00'), amount: btc('1.5') }]);
  });
});

describe('money of a fill', () => {
  it('charges the taker and the maker rate each in the currency it receives', () => {
    book.place(limit('bob', 'sell', '20000.00', '1'));
    const result = book.place(market('alice', 'buy', '0.5'));
    const [fill] = result.fills;
    expect(fill).toEqual({
      makerOrderId: 'o1',
      makerOwnerId: 'bob',
      takerOrderId: 'o2',
      takerOwnerId: 'alice',
      takerSide: 'buy',
      price: eur('20000.00'),
      qty: btc('0.5'),
      quoteAmount: eur('10000.00'),
      buyerFee: btc('0.001'), // taker 0.20 % of 0.5 BTC, in BTC
      sellerFee: eur('10.00'), // maker 0.10 % of 10000.00 EUR, in EUR
      makerRemaining: btc('0.5'),
      makerStatus: 'partially_filled',
    });
    expect(result.quoteAmount).toBe(eur('10000.00'));
    expect(result.takerFee).toBe(btc('0.001'));
  });

  it('charges a selling taker the taker rate in quote, the buying maker the maker rate in BTC', () => {
    book.place(limit('bob', 'buy', '20000.50', '0.01'));
    const [fill] = book.place(limit('alice', 'sell', '20000.00', '0.01')).fills;
    expect(fill.quoteAmount).toBe(eur('200.00')); // 200.005 rounded down
    expect(fill.buyerFee).toBe(btc('0.00001')); // maker 0.10 % of 0.01 BTC
    expect(fill.sellerFee).toBe(40n); // taker 0.20 % of 200.00 = 0.40 EUR
  });

  it('rounds fees half-up', () => {
    book.place(limit('bob', 'sell', '20000.00', '0.0003525'));
    const [first] = book.place(market('alice', 'buy', '0.00025')).fills;
    expect(first.quoteAmount).toBe(eur('5.00'));
    expect(first.sellerFee).toBe(1n); // 0.10 % of 5.00 EUR = 0.005 → 0.01
    expect(first.buyerFee).toBe(50n); // 0.20 % of 25000 sats, exact
    const [second] = book.place(market('alice', 'buy', '0.0001025')).fills;
    expect(second.buyerFee).toBe(21n); // 0.20 % of 10250 sats = 20.5 → 21
    expect(second.quoteAmount).toBe(eur('2.05'));
    expect(second.sellerFee).toBe(0n); // 0.00205 EUR → 0
  });
});

describe('post_only', () => {
  it('refuses an order that would take, changing nothing', () => {
    book.place(limit('bob', 'sell', '20000.00', '1'));
    const before = snapshot();
    const result = book.place(limit('alice', 'buy', '20000.00', '0.5', { postOnly: true }));
    expect(result.order).toMatchObject({ status: 'rejected', reason: 'ORDER_WOULD_TAKE', sequence: undefined });
    expect(result.refusal).toEqual({
      code: 'ORDER_WOULD_TAKE',
      message: 'post_only order would take liquidity (best ask 20000.00 EUR)',
    });
    expect(result.fills).toEqual([]);
    expect(snapshot()).toEqual(before);
    expect(book.place(limit('alice', 'buy', '19000.00', '0.5')).order.sequence).toBe(2n); // no sequence spent
  });

  it('rests an order that does not cross', () => {
    book.place(limit('bob', 'sell', '20000.00', '1'));
    const result = book.place(limit('alice', 'buy', '19999.99', '0.5', { postOnly: true }));
    expect(result.order).toMatchObject({ status: 'open', postOnly: true });
    expect(book.get(result.order.id)?.postOnly).toBe(true);
  });
});

describe('fok', () => {
  beforeEach(() => {
    book.place(limit('bob', 'sell', '20000.00', '0.3'));
    book.place(limit('carol', 'sell', '20001.00', '0.3'));
  });

  it('fills completely across levels', () => {
    const result = book.place(limit('alice', 'buy', '20001.00', '0.5', { timeInForce: 'fok' }));
    expect(result.order).toMatchObject({ status: 'filled', filled: btc('0.5') });
    expect(shown().asks).toEqual([[20001, 0.1]]);
  });

  it('is refused whole when its price does not reach enough, changing nothing', () => {
    const before = snapshot();
    const result = book.place(limit('alice', 'buy', '20000.00', '0.5', { timeInForce: 'fok' }));
    expect(result.order).toMatchObject({ status: 'rejected', reason: 'ORDER_NOT_FILLABLE', filled: 0n });
    expect(result.refusal?.message).toBe('fok order cannot be filled completely: only 0.3 BTC can be filled at once');
    expect(result.fills).toEqual([]);
    expect(result.levels).toEqual([]);
    expect(snapshot()).toEqual(before);
  });

  it('as a market order is refused whole when the book is too thin', () => {
    const before = snapshot();
    const result = book.place(market('alice', 'buy', '0.7', { timeInForce: 'fok' }));
    expect(result.refusal?.code).toBe('ORDER_NOT_FILLABLE');
    expect(snapshot()).toEqual(before);
  });
});

describe('ioc', () => {
  it('fills what crosses and cancels the rest', () => {
    book.place(limit('bob', 'sell', '20000.00', '0.3'));
    const result = book.place(limit('alice', 'buy', '20000.00', '0.5', { timeInForce: 'ioc' }));
    expect(result.order).toMatchObject({
      status: 'cancelled',
      reason: 'immediate_or_cancel',
      filled: btc('0.3'),
      remaining: btc('0.2'),
      sequence: 2n,
    });
    expect(result.levels).toEqual([{ side: 'sell', price: eur('20000.00'), amount: 0n }]);
    expect(book.size).toBe(0);
  });

  it('is cancelled whole when nothing crosses', () => {
    book.place(limit('bob', 'sell', '20000.00', '0.3'));
    const result = book.place(limit('alice', 'buy', '19999.00', '0.5', { timeInForce: 'ioc' }));
    expect(result.order).toMatchObject({ status: 'cancelled', reason: 'immediate_or_cancel', filled: 0n });
    expect(result.levels).toEqual([]);
    expect(book.size).toBe(1);
  });
});

describe('market orders', () => {
  it('walk the book at any price and never rest', () => {
    book.place(limit('bob', 'buy', '20000.00', '0.3'));
    book.place(limit('carol', 'buy', '15000.00', '0.3'));
    const result = book.place(market('alice', 'sell', '1', { timeInForce: 'gtc' }));
    expect(result.fills.map((f) => [f.price, f.qty])).toEqual([
      [eur('20000.00'), btc('0.3')],
      [eur('15000.00'), btc('0.3')],
    ]);
    expect(result.order).toMatchObject({
      status: 'cancelled',
      reason: 'immediate_or_cancel',
      price: undefined,
      filled: btc('0.6'),
      remaining: btc('0.4'),
    });
    expect(result.quoteAmount).toBe(eur('6000.00') + eur('4500.00'));
    expect(book.size).toBe(0);
  });

  it('are refused with NO_LIQUIDITY against an empty side', () => {
    book.place(limit('bob', 'buy', '20000.00', '0.3'));
    const before = snapshot();
    const result = book.place(market('alice', 'buy', '0.1'));
    expect(result.order).toMatchObject({ status: 'rejected', reason: 'NO_LIQUIDITY' });
    expect(result.refusal).toEqual({ code: 'NO_LIQUIDITY', message: 'no sell orders in the BTC-EUR book' });
    expect(snapshot()).toEqual(before);
  });
});

describe('self-trade prevention (cancel newest)', () => {
  beforeEach(() => {
    book.place(limit('bob', 'sell', '20000.00', '0.1')); // o1
    book.place(limit('bob', 'sell', '20001.00', '0.1')); // o2
    book.place(limit('alice', 'sell', '20001.00', '0.1')); // o3: alice's own
    book.place(limit('carol', 'sell', '20001.00', '0.1')); // o4: behind alice's
  });

  it('keeps the fills before the own order and cancels the rest of the taker', () => {
    const result = book.place(limit('alice', 'buy', '20002.00', '0.5'));
    expect(result.fills.map((f) => f.makerOrderId)).toEqual(['o1', 'o2']);
    expect(result.order).toMatchObject({
      status: 'cancelled',
      reason: 'self_trade',
      filled: btc('0.2'),
      remaining: btc('0.3'),
    });
    expect(result.levels).toEqual([
      { side: 'sell', price: eur('20000.00'), amount: 0n },
      { side: 'sell', price: eur('20001.00'), amount: btc('0.2') },
    ]);
    expect(book.get('o3')).toMatchObject({ status: 'open', remaining: btc('0.1') }); // the maker is untouched
    expect(book.get('o4')).toMatchObject({ status: 'open', remaining: btc('0.1') });
    expect(book.bestBid()).toBeUndefined(); // the remainder did not rest
  });

  it('cancels a market order the same way', () => {
    const result = book.place(market('alice', 'buy', '0.5'));
    expect(result.order).toMatchObject({ status: 'cancelled', reason: 'self_trade', filled: btc('0.2') });
  });

  it('makes a fok that would meet the own order not fillable, changing nothing', () => {
    const before = snapshot();
    const result = book.place(limit('alice', 'buy', '20002.00', '0.3', { timeInForce: 'fok' }));
    expect(result.refusal).toEqual({
      code: 'ORDER_NOT_FILLABLE',
      message: 'fok order cannot be filled completely: it would trade with your own order',
    });
    expect(snapshot()).toEqual(before);
  });

  it('lets a fok through that fills before reaching the own order', () => {
    const result = book.place(limit('alice', 'buy', '20002.00', '0.2', { timeInForce: 'fok' }));
    expect(result.order.status).toBe('filled');
  });

  it('cancels a taker whose first match is its own order, with no fill', () => {
    book.place(limit('carol', 'buy', '20000.00', '0.05')); // takes o1 partly (carol vs bob)
    const result = book.place(limit('bob', 'buy', '20000.00', '0.1'));
    expect(result.fills).toEqual([]);
    expect(result.levels).toEqual([]);
    expect(result.order).toMatchObject({ status: 'cancelled', reason: 'self_trade', filled: 0n });
  });
});

describe('cancel', () => {
  it('takes a resting order out and reports its level', () => {
    book.place(limit('bob', 'sell', '20000.00', '0.3'));
    book.place(limit('carol', 'sell', '20000.00', '0.2'));
    expect(book.cancel('o1')).toEqual({
      order: expect.objectContaining({ id: 'o1', status: 'cancelled', filled: 0n, remaining: btc('0.3') }),
      level: { side: 'sell', price: eur('20000.00'), amount: btc('0.2') },
    });
    expect(book.cancel('o2')?.level).toEqual({ side: 'sell', price: eur('20000.00'), amount: 0n });
    expect(book.size).toBe(0);
    expect(book.depth()).toEqual({ bids: [], asks: [] });
  });

  it('reports what a partly filled order had filled', () => {
    book.place(limit('bob', 'sell', '20000.00', '0.3'));
    book.place(market('alice', 'buy', '0.1'));
    expect(book.cancel('o1')?.order).toMatchObject({ status: 'cancelled', filled: btc('0.1'), remaining: btc('0.2') });
  });

  it('answers undefined for an order not resting', () => {
    book.place(limit('bob', 'sell', '20000.00', '0.3'));
    book.place(market('alice', 'buy', '0.3'));
    expect(book.cancel('o1')).toBeUndefined();
    expect(book.cancel('nope')).toBeUndefined();
  });

  it('unlinks from the middle of a level, keeping the others in order', () => {
    for (const owner of ['a', 'b', 'c']) book.place(limit(owner, 'sell', '20000.00', '0.1'));
    book.cancel('o2');
    const result = book.place(market('alice', 'buy', '0.2'));
    expect(result.fills.map((f) => f.makerOrderId)).toEqual(['o1', 'o3']);
  });
});

describe('restore', () => {
  const resting = (id: string, side: Side, price: string, remaining: string, sequence: bigint): RestingOrderInput => ({
    id,
    ownerId: `owner-${id}`,
    side,
    type: 'limit',
    price: eur(price),
    amount: btc('1'),
    remaining: btc(remaining),
    sequence,
    timeInForce: 'gtc',
    postOnly: false,
  });

  it('loads orders given in any order, keeping time priority by sequence, without matching', () => {
    book.restore([
      resting('late', 'sell', '20000.00', '0.5', 9n),
      resting('bid', 'buy', '19999.00', '1', 3n),
      resting('early', 'sell', '20000.00', '0.25', 4n),
    ]);
    expect(shown()).toEqual({ bids: [[19999, 1]], asks: [[20000, 0.75]] });
    expect(book.get('late')).toMatchObject({ filled: btc('0.5'), status: 'partially_filled', sequence: 9n });
    const result = book.place(market('alice', 'buy', '0.3'));
    expect(result.fills.map((f) => f.makerOrderId)).toEqual(['early', 'late']);
    expect(result.order.sequence).toBe(10n);
  });

  it('continues above a sequence the caller knows of', () => {
    book.restore([resting('a', 'sell', '20000.00', '1', 5n)], 42n);
    expect(book.place(limit('x', 'buy', '1.00', '0.1')).order.sequence).toBe(42n);
  });

  it('refuses what a book could not have held, loading nothing', () => {
    expect(() =>
      book.restore([resting('a', 'sell', '20000.00', '1', 1n), resting('b', 'buy', '20000.00', '1', 2n)]),
    ).toThrow(/crossed/);
    expect(() =>
      book.restore([resting('a', 'sell', '20000.00', '1', 1n), resting('a', 'sell', '20001.00', '1', 2n)]),
    ).toThrow(/duplicate id/);
    expect(() => book.restore([{ ...resting('a', 'sell', '20000.00', '1', 1n), remaining: 0n }])).toThrow(/remaining/);
    expect(() => book.restore([{ ...resting('a', 'sell', '20000.00', '1', 1n), timeInForce: 'ioc' }])).toThrow(/gtc/);
    expect(book.size).toBe(0);
    book.place(limit('x', 'buy', '1.00', '0.1'));
    expect(() => book.restore([])).toThrow(/empty book/);
  });
});

describe('simulate', () => {
  it('answers what place would, leaving the book and the sequence as they are', () => {
    book.place(limit('bob', 'sell', '20000.00', '0.3'));
    book.place(limit('carol', 'sell', '20001.00', '0.3'));
    const before = snapshot();
    const order = market('alice', 'buy', '0.5');
    const simulated = book.simulate(order);
    expect(snapshot()).toEqual(before);
    expect(book.get('o1')?.remaining).toBe(btc('0.3'));
    expect(book.simulate(order)).toEqual(simulated);
    expect(book.place(order)).toEqual(simulated);
    expect(simulated.quoteAmount).toBe(eur('6000.00') + eur('4000.20'));
  });
});

describe('refusals and mistakes', () => {
  it('refuses an invalid order with VALIDATION_FAILED and its field', () => {
    const result = book.place(limit('alice', 'buy', '20000.00', '0.00001'));
    expect(result.order).toMatchObject({ status: 'rejected', reason: 'VALIDATION_FAILED' });
    expect(result.refusal).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'amount',
      message: 'amount must be at least 0.0001 BTC',
    });
  });

  it('throws on an id already resting: a caller bug, not a client refusal', () => {
    book.place(limit('alice', 'buy', '20000.00', '0.1', { id: 'same' }));
    expect(() => book.place(limit('alice', 'buy', '20000.00', '0.1', { id: 'same' }))).toThrow(/already/);
  });
});

describe('depth and checksum', () => {
  it("give the book's levels and the checksum computed by hand", () => {
    book.place(limit('a', 'sell', '20002.50', '1'));
    book.place(limit('b', 'sell', '20001.00', '0.5'));
    book.place(limit('c', 'sell', '20002.50', '0.25'));
    book.place(limit('d', 'buy', '19999.99', '2'));
    book.place(limit('e', 'buy', '20000.00', '0.01'));
    expect(book.depth()).toEqual({
      bids: [
        [eur('20000.00'), btc('0.01')],
        [eur('19999.99'), btc('2')],
      ],
      asks: [
        [eur('20001.00'), btc('0.5')],
        [eur('20002.50'), btc('1.25')],
      ],
    });
    expect(book.depth(1)).toEqual({ bids: [[eur('20000.00'), btc('0.01')]], asks: [[eur('20001.00'), btc('0.5')]] });
    expect(book.checksum()).toBe(3595504026); // see checksum.spec.ts
  });
});

describe('the checksum after changes near and below the top 10', () => {
  it('follows a change at every rank of either side, however deep', () => {
    const fresh = () => {
      book = new OrderBook(RULES);
      for (let rank = 0; rank < 12; rank++) {
        book.place(limit('maker', 'buy', `${19_999 - rank}.00`, '0.1', { id: `bid${rank}` }));
        book.place(limit('maker', 'sell', `${20_001 + rank}.00`, '0.1', { id: `ask${rank}` }));
      }
      book.checksum(); // remembered from here on
    };
    const agrees = () => expect(book.checksum()).toBe(bookChecksum(book.depth()));
    for (let rank = 0; rank < 12; rank++) {
      for (const side of ['bid', 'ask'] as const) {
        fresh();
        book.cancel(`${side}${rank}`); // removes the level at this rank
        agrees();
        book.place(
          limit(
            'other',
            side === 'bid' ? 'buy' : 'sell',
            side === 'bid' ? `${19_999 - rank}.00` : `${20_001 + rank}.00`,
            '0.1',
          ),
        );
        agrees(); // the level is back
        book.place(
          limit(
            'other',
            side === 'bid' ? 'buy' : 'sell',
            side === 'bid' ? `${19_999 - rank}.50` : `${20_001 + rank}.50`,
            '0.1',
          ),
        );
        agrees(); // a new level just better than this rank
      }
    }
  });
});
