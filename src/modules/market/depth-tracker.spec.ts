import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DepthTracker } from './depth-tracker.js';
import { OrderBook, type OrderInput, type PairRules } from './engine/index.js';

const RULES: PairRules = {
  symbol: 'BTC-EUR',
  base: 'BTC',
  quote: 'EUR',
  quoteDecimals: 2,
  baseDecimals: 8,
  priceTick: 1n,
  amountStep: 1n,
  minAmount: 1n,
  maxAmount: 10_000n,
  makerFeePpm: 1000n,
  takerFeePpm: 2000n,
};

describe('DepthTracker', () => {
  it('follows a book change by change and ends with its depth and checksum', () => {
    const order = fc.record({
      side: fc.constantFrom('buy' as const, 'sell' as const),
      price: fc.integer({ min: 95, max: 105 }),
      amount: fc.integer({ min: 1, max: 50 }),
      owner: fc.constantFrom('a', 'b', 'c'),
      market: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(order, { minLength: 1, maxLength: 60 }), (orders) => {
        const book = new OrderBook(RULES);
        const tracker = new DepthTracker(book.depth());
        orders.forEach((o, i) => {
          const input: OrderInput = {
            id: `o${i}`,
            ownerId: o.owner,
            side: o.side,
            type: o.market ? 'market' : 'limit',
            price: o.market ? undefined : BigInt(o.price),
            amount: BigInt(o.amount),
            timeInForce: o.market ? 'ioc' : 'gtc',
            postOnly: false,
          };
          const result = book.place(input);
          let last = tracker.checksum();
          for (const level of result.levels) last = tracker.apply(level);
          expect(last).toBe(book.checksum());
          expect(tracker.depth()).toEqual(book.depth());
        });
      }),
      { numRuns: 300 },
    );
  });

  it('gives the checksum of each intermediate state', () => {
    const tracker = new DepthTracker({
      bids: [[100n, 5n]],
      asks: [
        [101n, 1n],
        [102n, 2n],
      ],
    });
    const afterFirst = tracker.apply({ side: 'sell', price: 101n, amount: 0n });
    expect(afterFirst).toBe(new DepthTracker({ bids: [[100n, 5n]], asks: [[102n, 2n]] }).checksum());
    tracker.apply({ side: 'sell', price: 102n, amount: 1n });
    expect(tracker.depth()).toEqual({ bids: [[100n, 5n]], asks: [[102n, 1n]] });
    tracker.apply({ side: 'buy', price: 103n, amount: 4n });
    expect(tracker.depth().bids).toEqual([
      [103n, 4n],
      [100n, 5n],
    ]);
  });
});
