import { describe, expect, it } from 'vitest';
import { computeFee, type FeeRule, rateToString, shareOf } from './fees.js';

const rule = (rateMicros: bigint, extra: Partial<FeeRule> = {}): FeeRule => ({
  rateMicros,
  fixedMinor: 0n,
  minMinor: 0n,
  maxMinor: null,
  ...extra,
});

const TWO_PERCENT = rule(20_000n);

describe('computeFee', () => {
  it.each([
    ['2% of 100.00', 10_000n, TWO_PERCENT, 200n],
    ['2% of 25.00', 2_500n, TWO_PERCENT, 50n],
    ['2% of 0.01 (0.02 rounds to 0)', 1n, TWO_PERCENT, 0n],
    ['2% of 0.24 (0.48 rounds down)', 24n, TWO_PERCENT, 0n],
    ['2% of 0.25 (0.5 rounds up)', 25n, TWO_PERCENT, 1n],
    ['2% of 0.74 (1.48 rounds down)', 74n, TWO_PERCENT, 1n],
    ['2% of 0.75 (1.5 rounds up)', 75n, TWO_PERCENT, 2n],
    ['1% of 100.00', 10_000n, rule(10_000n), 100n],
    ['0.5% of 1.00', 100n, rule(5_000n), 1n],
    ['2% of 0.00012345 BTC (246.9 rounds up)', 12_345n, TWO_PERCENT, 247n],
    ['2% of nothing', 0n, TWO_PERCENT, 0n],
    ['0% of 100.00', 10_000n, rule(0n), 0n],
    ['100% of 100.00', 10_000n, rule(1_000_000n), 10_000n],
  ])('%s is %s', (_label, amount, feeRule, expected) => {
    expect(computeFee(amount, feeRule)).toBe(expected);
  });

  it('adds the fixed part after rounding the proportional part', () => {
    // 2.9% of 10.00 is 29 cents, plus 30 cents fixed.
    expect(computeFee(1_000n, rule(29_000n, { fixedMinor: 30n }))).toBe(59n);
    expect(computeFee(0n, rule(29_000n, { fixedMinor: 30n }))).toBe(30n);
  });

  it('raises the fee to the minimum', () => {
    const withMin = rule(20_000n, { minMinor: 100n });
    expect(computeFee(1_000n, withMin)).toBe(100n); // 20 cents raised to 1.00
    expect(computeFee(1n, withMin)).toBe(100n);
    expect(computeFee(5_000n, withMin)).toBe(100n); // exactly the minimum
    expect(computeFee(5_025n, withMin)).toBe(101n); // 100.5 rounds up, just above
  });

  it('caps the fee at the maximum', () => {
    const withMax = rule(20_000n, { maxMinor: 500n });
    expect(computeFee(100_000n, withMax)).toBe(500n); // 2% of 1000.00 is 20.00, capped at 5.00
    expect(computeFee(25_000n, withMax)).toBe(500n); // exactly the maximum
    expect(computeFee(24_950n, withMax)).toBe(499n);
  });

  it('clamps after adding the fixed part', () => {
    const full = rule(20_000n, { fixedMinor: 30n, minMinor: 50n, maxMinor: 500n });
    expect(computeFee(0n, full)).toBe(50n);
    expect(computeFee(1_000n, full)).toBe(50n); // 20 + 30 = 50: the minimum exactly
    expect(computeFee(2_000n, full)).toBe(70n);
    expect(computeFee(23_500n, full)).toBe(500n); // 470 + 30 = 500: the maximum exactly
    expect(computeFee(100_000n, full)).toBe(500n);
  });

  it('is exact for the largest amounts', () => {
    // 1,000,000,000.00 KES at 2%: no precision lost, unlike a double.
    expect(computeFee(100_000_000_000n, TWO_PERCENT)).toBe(2_000_000_000n);
    expect(computeFee(99_999_999_999n, TWO_PERCENT)).toBe(2_000_000_000n); // 1999999999.98 rounds up
    expect(computeFee(10n ** 30n + 25n, TWO_PERCENT)).toBe(2n * 10n ** 28n + 1n);
  });

  it('never charges more than the amount at a rate up to 100% without fixed or minimum', () => {
    for (let amount = 0n; amount < 2_000n; amount += 7n) {
      for (const rate of [0n, 1n, 5_000n, 20_000n, 499_999n, 500_000n, 1_000_000n]) {
        const fee = computeFee(amount, rule(rate));
        expect(fee >= 0n && fee <= amount).toBe(true);
        // Half-up: within half a minor unit of the exact value rate × amount / 10^6.
        const exactTimes2 = (2n * amount * rate) / 1_000_000n;
        expect(2n * fee >= exactTimes2 - 1n && 2n * fee <= exactTimes2 + 1n).toBe(true);
      }
    }
  });

  it('refuses negative amounts and rules', () => {
    expect(() => computeFee(-1n, TWO_PERCENT)).toThrow(RangeError);
    expect(() => computeFee(100n, rule(-1n))).toThrow(/rateMicros must not be negative/);
    expect(() => computeFee(100n, rule(1n, { fixedMinor: -1n }))).toThrow(/fixedMinor/);
    expect(() => computeFee(100n, rule(1n, { minMinor: -1n }))).toThrow(/minMinor/);
    expect(() => computeFee(100n, rule(1n, { maxMinor: -1n }))).toThrow(/maxMinor/);
  });
});

describe('shareOf', () => {
  it.each([
    [200n, 750_000n, 150n],
    [3n, 750_000n, 2n], // 2.25 rounds down
    [1n, 750_000n, 0n],
    [0n, 750_000n, 0n],
    [4n, 750_000n, 3n],
    [999n, 1_000_000n, 999n],
    [999n, 0n, 0n],
    [2_000_000_000n, 750_000n, 1_500_000_000n],
  ])('share of %s at %s micros is %s', (amount, share, expected) => {
    expect(shareOf(amount, share)).toBe(expected);
  });

  it('leaves the platform a remainder between zero and the fee', () => {
    for (let fee = 0n; fee < 1_000n; fee++) {
      const share = shareOf(fee, 750_000n);
      expect(share >= 0n && share <= fee).toBe(true);
      expect(fee - share).toBeGreaterThanOrEqual((fee * 250_000n) / 1_000_000n);
    }
  });

  it('refuses negative values and shares above 100%', () => {
    expect(() => shareOf(-1n, 750_000n)).toThrow(RangeError);
    expect(() => shareOf(1n, -1n)).toThrow(RangeError);
    expect(() => shareOf(1n, 1_000_001n)).toThrow(/more than 100%/);
  });
});

describe('rateToString', () => {
  it.each([
    [20_000n, '0.02'],
    [10_000n, '0.01'],
    [5_000n, '0.005'],
    [29_000n, '0.029'],
    [1n, '0.000001'],
    [750_000n, '0.75'],
    [1_000_000n, '1'],
    [1_500_000n, '1.5'],
    [0n, '0'],
  ])('renders %s micros as %j', (rate, expected) => {
    expect(rateToString(rate)).toBe(expected);
  });
});
