// Kraken v2 book checksum (contract §5): the CRC32 a client compares with its own copy of the book.
import { crc32 } from 'node:zlib';
import { parseScaled } from '../../../shared/decimal.js';

/** Levels per side the checksum covers. */
export const CHECKSUM_LEVELS = 10;

type Levels<T> = readonly (readonly [T, T])[];

/**
 * The checksum of a book held in minor units (prices in quote minor units, amounts in satoshi):
 * over the top 10 asks from lowest, then the top 10 bids from highest, each level's price and
 * amount written as decimals with the dot and leading zeros removed, all concatenated, as an
 * unsigned 32-bit CRC. A value written with exactly its currency's decimals, dot removed, is its
 * minor-unit integer, so the digits are the bigint's own. Bids must be highest first and asks
 * lowest first, as `depth` gives them.
 */
export function bookChecksum(book: { bids: Levels<bigint>; asks: Levels<bigint> }): number {
  let text = '';
  const asks = Math.min(book.asks.length, CHECKSUM_LEVELS);
  for (let i = 0; i < asks; i++) text += digits(book.asks[i][0]) + digits(book.asks[i][1]);
  const bids = Math.min(book.bids.length, CHECKSUM_LEVELS);
  for (let i = 0; i < bids; i++) text += digits(book.bids[i][0]) + digits(book.bids[i][1]);
  return crc32(text);
}

/**
 * The same checksum from a book as a client receives it (decimal numbers or strings such as
 * 20000.5 and "0.01"), given the pair's quote decimals and the base's (8 for BTC).
 */
export function decimalBookChecksum(
  book: { bids: Levels<number | string>; asks: Levels<number | string> },
  quoteDecimals: number,
  baseDecimals = 8,
): number {
  const scale = (levels: Levels<number | string>) =>
    levels
      .slice(0, CHECKSUM_LEVELS)
      .map(([price, amount]) => [parseScaled(price, quoteDecimals), parseScaled(amount, baseDecimals)] as const);
  return bookChecksum({ bids: scale(book.bids), asks: scale(book.asks) });
}

/** Leading zeros stripped: zero itself is the empty string, as Kraken's would be. */
const digits = (value: bigint): string => (value === 0n ? '' : value.toString());
