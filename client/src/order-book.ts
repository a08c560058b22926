// A local copy of one pair's order book by price level, kept from a snapshot and level updates,
// with the checksum of contract section 5 (Kraken's v2 book checksum) to compare with the server's.
import { crc32 } from './crc32.js';

/** [price, amount]: the amount is the level's total, in the base currency. */
export type Level = [price: number, amount: number];

/** Levels per side that the checksum covers. */
export const CHECKSUM_LEVELS = 10;

/**
 * A value written with exactly `decimals` decimals, the dot and leading zeros removed: 20000.5 with
 * 2 decimals is "2000050", 0.01 with 8 is "1000000". Numbers arrive as JSON numbers that print
 * exactly (the server sends at most the currency's decimals).
 */
export function checksumDigits(value: number, decimals: number): string {
  let text = String(value);
  if (/e/i.test(text)) text = value.toFixed(decimals);
  const [whole, fraction = ''] = text.split('.');
  return (whole + fraction.padEnd(decimals, '0').slice(0, decimals)).replace(/^0+/, '');
}

/** The CRC32 of the top 10 asks (lowest first), then the top 10 bids (highest first). */
export function bookChecksum(
  book: { bids: readonly Level[]; asks: readonly Level[] },
  quoteDecimals: number,
  baseDecimals = 8,
): number {
  let text = '';
  for (const [price, amount] of book.asks.slice(0, CHECKSUM_LEVELS)) {
    text += checksumDigits(price, quoteDecimals) + checksumDigits(amount, baseDecimals);
  }
  for (const [price, amount] of book.bids.slice(0, CHECKSUM_LEVELS)) {
    text += checksumDigits(price, quoteDecimals) + checksumDigits(amount, baseDecimals);
  }
  return crc32(text);
}

export class OrderBook {
  /** Highest price first. */
  bids: Level[] = [];
  /** Lowest price first. */
  asks: Level[] = [];
  /** The `market-depth:PAIR` seq this copy stands at. */
  seq = 0;

  constructor(
    readonly pair: string,
    readonly quoteDecimals: number,
    readonly baseDecimals = 8,
  ) {}

  /** Replaces the book with a snapshot at `seq`. */
  load(snapshot: { bids: readonly Level[]; asks: readonly Level[] }, seq: number): void {
    this.bids = snapshot.bids.map(([price, amount]) => [price, amount] as Level).sort((a, b) => b[0] - a[0]);
    this.asks = snapshot.asks.map(([price, amount]) => [price, amount] as Level).sort((a, b) => a[0] - b[0]);
    this.seq = seq;
  }

  /** Sets the total at one price (`buy` = bids, `sell` = asks); 0 removes the level. */
  set(side: 'buy' | 'sell', price: number, amount: number): void {
    const levels = side === 'buy' ? this.bids : this.asks;
    const before = side === 'buy' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
    let low = 0;
    let high = levels.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (before(levels[mid][0], price)) low = mid + 1;
      else high = mid;
    }
    const found = low < levels.length && levels[low][0] === price;
    if (amount === 0) {
      if (found) levels.splice(low, 1);
    } else if (found) levels[low][1] = amount;
    else levels.splice(low, 0, [price, amount]);
  }

  checksum(): number {
    return bookChecksum(this, this.quoteDecimals, this.baseDecimals);
  }

  /** The best `n` levels of each side. */
  top(n = CHECKSUM_LEVELS): { bids: Level[]; asks: Level[] } {
    return { bids: this.bids.slice(0, n), asks: this.asks.slice(0, n) };
  }
}
