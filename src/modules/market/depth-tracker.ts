// A copy of one pair's price levels that moves one level change at a time, for the checksum a
// client must find after applying each `update-market-depth` in turn. The engine reports the
// levels an order changed with their final totals, in the order they changed; applying them one
// by one gives the states a client passes through, and each frame carries the checksum of its own.
import { bookChecksum, type Depth, type LevelChange, type Side } from './engine/index.js';

export class DepthTracker {
  /** Each side's levels as [price, amount], best first. */
  private readonly sides: Record<Side, [bigint, bigint][]>;

  constructor(depth: Depth) {
    this.sides = { buy: depth.bids.map(([p, a]) => [p, a]), sell: depth.asks.map(([p, a]) => [p, a]) };
  }

  /** Sets a level's total (0 removes it); returns the book's checksum after the change. */
  apply(change: LevelChange): number {
    const levels = this.sides[change.side];
    const better = change.side === 'buy' ? (a: bigint, b: bigint) => a > b : (a: bigint, b: bigint) => a < b;
    let lo = 0;
    let hi = levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (better(levels[mid][0], change.price)) lo = mid + 1;
      else hi = mid;
    }
    const found = lo < levels.length && levels[lo][0] === change.price;
    if (change.amount === 0n) {
      if (found) levels.splice(lo, 1);
    } else if (found) {
      levels[lo][1] = change.amount;
    } else {
      levels.splice(lo, 0, [change.price, change.amount]);
    }
    return this.checksum();
  }

  checksum(): number {
    return bookChecksum({ bids: this.sides.buy, asks: this.sides.sell });
  }

  depth(levels = Number.POSITIVE_INFINITY): Depth {
    return { bids: this.sides.buy.slice(0, levels), asks: this.sides.sell.slice(0, levels) };
  }
}
