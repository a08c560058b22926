import { describe, expect, it } from 'vitest';
import { convertMinor, parseRate, rateScaledToString } from './fx.js';
import { AmountError } from './money.js';

const ONE = 10n ** 12n;

function rateMessage(input: unknown): string {
  try {
    parseRate(input);
  } catch (error) {
    if (error instanceof AmountError && error.field === 'rate') return error.message;
    throw new Error(`expected an AmountError on rate, got ${String(error)}`, { cause: error });
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe('parseRate', () => {
  it.each([
    ['0.925', 925_000_000_000n],
    [0.925, 925_000_000_000n],
    [' 0.925 ', 925_000_000_000n],
    ['0.925000', 925_000_000_000n],
    ['129.5', 129_500_000_000_000n],
    [129.5, 129_500_000_000_000n],
    ['0.0000105', 10_500_000n],
    [0.0000105, 10_500_000n],
    ['95000.5', 95_000_500_000_000_000n],
    [1, ONE],
    ['1', ONE],
    ['0.000000000001', 1n],
    ['999999999999.999999999999', 10n ** 24n - 1n],
  ])('reads %j', (input, expected) => {
    expect(parseRate(input)).toBe(expected);
  });

  it.each([[undefined], [null]])('refuses %j as missing', (input) => {
    expect(rateMessage(input)).toBe('rate is required');
  });

  it.each([
    ['a word', 'abc'],
    ['an empty string', ''],
    ['an exponent', '1e3'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['true', true],
    ['an object', { rate: 1 }],
    ['an array', [1]],
    ['a long run of digits and a letter', '1'.repeat(200_000) + 'x'],
  ])('refuses %s as not a number', (_label, input) => {
    expect(rateMessage(input)).toBe('rate must be a number such as 0.925');
  });

  it.each([[0], ['0'], ['-0'], [-0], ['0.000'], [-1], ['-0.925']])('refuses %j as not greater than zero', (input) => {
    expect(rateMessage(input)).toBe('rate must be greater than zero');
  });

  it('refuses more than 12 decimal places', () => {
    expect(rateMessage('0.0000000000001')).toBe('rate has more than 12 decimal places');
    expect(rateMessage(0.1 + 0.2)).toBe('rate has more than 12 decimal places');
  });

  it('refuses more than 12 integer digits', () => {
    expect(rateMessage('1000000000000')).toBe('rate has more than 12 digits before the decimal point');
    expect(rateMessage('9'.repeat(100))).toBe('rate has more than 12 digits before the decimal point');
  });

  it('refuses a JSON number with more than 15 significant digits', () => {
    expect(rateMessage(1234.123456789012)).toBe(
      'rate has too many digits to be exact as a number: send it as a string',
    );
    expect(parseRate('1234.123456789012')).toBe(1_234_123_456_789_012n);
  });
});

describe('rateScaledToString', () => {
  it.each([
    [925_000_000_000n, '0.925'],
    [129_500_000_000_000n, '129.5'],
    [10_500_000n, '0.0000105'],
    [ONE, '1'],
    [100n * ONE, '100'],
    [1n, '0.000000000001'],
  ])('renders %s as %j', (rate, expected) => {
    expect(rateScaledToString(rate)).toBe(expected);
  });

  it('round-trips through parseRate', () => {
    for (const text of ['0.925', '129.5', '0.0000105', '1', '95000.5', '0.000000000001']) {
      expect(rateScaledToString(parseRate(text))).toBe(text);
    }
  });
});

describe('convertMinor', () => {
  it.each([
    ['100.00 USD at 0.925 to EUR', 10_000n, 2, 2, '0.925', 9_250n],
    ['1.00 USD at 129.5 to KES', 100n, 2, 2, '129.5', 12_950n],
    ['100.00 USD at 0.0000105 to BTC', 10_000n, 2, 8, '0.0000105', 105_000n],
    ['0.01 USD at 0.925 (0.925 cents rounds down)', 1n, 2, 2, '0.925', 0n],
    ['0.00012345 BTC at 95000.5 to USD (11.7278 rounds down)', 12_345n, 8, 2, '95000.5', 1_172n],
    ['0.99 USD at 0.925 (91.575 cents rounds down)', 99n, 2, 2, '0.925', 91n],
    ['nothing', 0n, 2, 2, '0.925', 0n],
    ['100 JPY at 0.0067 to USD', 100n, 0, 2, '0.0067', 67n],
    ['1.00 USD at 1 to a 0-decimal currency', 100n, 2, 0, '1', 1n],
  ])('%s', (_label, amount, sourceDecimals, destDecimals, rate, expected) => {
    expect(convertMinor(amount, sourceDecimals, destDecimals, parseRate(rate))).toBe(expected);
  });

  it('is exact at the largest amounts', () => {
    // 1,000,000,000.00 KES at 0.0077 to USD: 7,700,000.00 USD exactly.
    expect(convertMinor(100_000_000_000n, 2, 2, parseRate('0.0077'))).toBe(770_000_000n);
    // 1000 BTC at the largest rate: 99999999999999999.999999999 cents, floored.
    expect(convertMinor(100_000_000_000n, 8, 2, parseRate('999999999999.999999999999'))).toBe(99_999_999_999_999_999n);
  });

  it('always rounds down, by less than one destination unit', () => {
    const rates = ['0.925', '129.5', '0.0000105', '95000.5', '1.000000000001', '0.333333333333'].map(parseRate);
    for (let amount = 0n; amount < 3_000n; amount += 13n) {
      for (const rate of rates) {
        for (const [from, to] of [
          [2, 2],
          [2, 8],
          [8, 2],
          [0, 2],
        ] as const) {
          const converted = convertMinor(amount, from, to, rate);
          // converted ≤ exact < converted + 1, compared without division.
          const exact = amount * rate * 10n ** BigInt(to);
          const unit = ONE * 10n ** BigInt(from);
          expect(converted * unit <= exact && exact < (converted + 1n) * unit).toBe(true);
        }
      }
    }
  });

  it('refuses negative amounts and non-positive rates', () => {
    expect(() => convertMinor(-1n, 2, 2, ONE)).toThrow(RangeError);
    expect(() => convertMinor(1n, 2, 2, 0n)).toThrow(RangeError);
    expect(() => convertMinor(1n, 2, 2, -ONE)).toThrow(RangeError);
  });
});

describe('rates JavaScript writes with an exponent', () => {
  it('reads 1e-7 as 0.0000001', () => {
    expect(parseRate(1e-7)).toBe(100_000n);
  });
});
