// The book checksum against values computed apart from this code (Python's zlib.crc32 on the strings).
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bookChecksum, decimalBookChecksum } from './checksum.js';

describe('book checksum', () => {
  it("matches the contract's example: 20000.5 and 0.01 are written 2000050 and 1000000", () => {
    const book = { bids: [], asks: [[2_000_050n, 1_000_000n] as const] };
    expect(bookChecksum(book)).toBe(crc32('20000501000000'));
    expect(bookChecksum(book)).toBe(2939238290); // zlib.crc32(b'20000501000000')
    expect(decimalBookChecksum({ bids: [], asks: [[20000.5, 0.01]] }, 2)).toBe(2939238290);
  });

  it('takes asks from lowest, then bids from highest', () => {
    const book = {
      asks: [
        [2_000_100n, 50_000_000n], // 20001.00 × 0.5
        [2_000_250n, 125_000_000n], // 20002.50 × 1.25
      ] as const,
      bids: [
        [2_000_000n, 1_000_000n], // 20000.00 × 0.01
        [1_999_999n, 200_000_000n], // 19999.99 × 2
      ] as const,
    };
    const text = '2000100' + '50000000' + '2000250' + '125000000' + '2000000' + '1000000' + '1999999' + '200000000';
    expect(bookChecksum(book)).toBe(crc32(text));
    expect(bookChecksum(book)).toBe(3595504026); // zlib.crc32 of the same text
    const decimals = {
      asks: [
        ['20001.00', '0.50000000'],
        [20002.5, 1.25],
      ] as const,
      bids: [
        ['20000', '0.01'],
        [19999.99, 2],
      ] as const,
    };
    expect(decimalBookChecksum(decimals, 2)).toBe(3595504026);
  });

  it('covers only the top 10 levels of each side', () => {
    const side = (from: bigint, step: bigint) =>
      Array.from({ length: 12 }, (_, i) => [from + step * BigInt(i), 100n + BigInt(i)] as const);
    const full = { asks: side(2_000_100n, 1n), bids: side(2_000_000n, -1n) };
    const top = { asks: full.asks.slice(0, 10), bids: full.bids.slice(0, 10) };
    expect(bookChecksum(full)).toBe(bookChecksum(top));
    expect(bookChecksum(full)).not.toBe(bookChecksum({ asks: full.asks.slice(0, 9), bids: top.bids }));
  });

  it('is 0 for an empty book (the CRC of the empty string)', () => {
    expect(bookChecksum({ bids: [], asks: [] })).toBe(0);
  });
});
