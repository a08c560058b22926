import { describe, expect, it } from 'vitest';
import {
  AmountError,
  type CurrencyInfo,
  formatForMessage,
  formatTrimmed,
  parseAmount,
  toDecimalString,
  toMajor,
} from './money.js';

// As in config/currencies.json.
const USD: CurrencyInfo = { code: 'USD', decimals: 2, maxAmount: 1_000_000_000n };
const KES: CurrencyInfo = { code: 'KES', decimals: 2, maxAmount: 100_000_000_000n };
const BTC: CurrencyInfo = { code: 'BTC', decimals: 8, maxAmount: 100_000_000_000n };
const JPY: CurrencyInfo = { code: 'JPY', decimals: 0, maxAmount: 1_000_000n };

/** The AmountError parseAmount throws, or a failure if it throws anything else or nothing. */
function refusal(input: unknown, currency: CurrencyInfo = USD, field?: string): AmountError {
  try {
    parseAmount(input, currency, field);
  } catch (error) {
    if (error instanceof AmountError) return error;
    throw new Error(`expected an AmountError, got ${String(error)}`, { cause: error });
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

const messageOf = (input: unknown, currency: CurrencyInfo = USD, field?: string): string =>
  refusal(input, currency, field).message;

const NOT_A_NUMBER = 'amount must be a number such as 10.50';

/** A small deterministic generator (xorshift64), so the round-trip loop is reproducible. */
function* randomBigints(seed: bigint, count: number, below: bigint): Generator<bigint> {
  const mask = (1n << 64n) - 1n;
  let state = seed;
  for (let i = 0; i < count; i++) {
    state ^= (state << 13n) & mask;
    state ^= state >> 7n;
    state ^= (state << 17n) & mask;
    yield (state % below) + 1n;
  }
}

describe('parseAmount', () => {
  describe('accepted values', () => {
    it.each([['25'], [25], [25.0], ['25.00'], ['25.0'], [' 25 '], ['\t25.00\n'], ['0025'], ['25.000']])(
      'reads %j as 2500n',
      (input) => {
        expect(parseAmount(input, USD)).toBe(2500n);
      },
    );

    it.each([
      ['1.500', 150n],
      ['1000.5', 100050n],
      [1000.5, 100050n],
      [0.01, 1n],
      ['0.01', 1n],
      [100, 10000n],
      ['100.50', 10050n],
    ])('reads %j USD as %s', (input, expected) => {
      expect(parseAmount(input, USD)).toBe(expected);
    });

    it('reads BTC with 8 decimals', () => {
      expect(parseAmount('0.00012345', BTC)).toBe(12345n);
      expect(parseAmount(0.00012345, BTC)).toBe(12345n);
      expect(parseAmount('0.00000001', BTC)).toBe(1n);
      expect(parseAmount(0.000001, BTC)).toBe(100n);
      expect(parseAmount('1.5', BTC)).toBe(150_000_000n);
      expect(parseAmount('0.100000000', BTC)).toBe(10_000_000n);
    });

    it('reads KES', () => {
      expect(parseAmount('1500', KES)).toBe(150_000n);
      expect(parseAmount(129.5, KES)).toBe(12_950n);
    });

    it('reads a currency without decimals', () => {
      expect(parseAmount('500', JPY)).toBe(500n);
      expect(parseAmount('500.00', JPY)).toBe(500n);
    });

    it('accepts exactly the maximum and refuses one minor unit more', () => {
      expect(parseAmount('10000000', USD)).toBe(1_000_000_000n);
      expect(parseAmount(10000000, USD)).toBe(1_000_000_000n);
      expect(parseAmount('10000000.00', USD)).toBe(1_000_000_000n);
      expect(messageOf('10000000.01', USD)).toBe('amount must be at most 10000000.00 USD');
      expect(messageOf(10000000.01, USD)).toBe('amount must be at most 10000000.00 USD');
      expect(parseAmount('1000', BTC)).toBe(100_000_000_000n);
      expect(messageOf('1000.00000001', BTC)).toBe('amount must be at most 1000.00000000 BTC');
      expect(parseAmount('1000000000', KES)).toBe(100_000_000_000n);
      expect(messageOf('1000000000.01', KES)).toBe('amount must be at most 1000000000.00 KES');
    });

    it('accepts the smallest unit', () => {
      expect(parseAmount('0.01', USD)).toBe(1n);
      expect(parseAmount('0.00000001', BTC)).toBe(1n);
    });
  });

  describe('refusals', () => {
    it.each([[undefined], [null]])('refuses %j as missing', (input) => {
      expect(messageOf(input)).toBe('amount is required');
    });

    it.each([
      ['true', true],
      ['false', false],
      ['an object', { amount: 5 }],
      ['an empty object', {}],
      ['an array', [5]],
      ['an empty array', []],
      ['a bigint', 5n],
      ['a function', () => 5],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
      ['an empty string', ''],
      ['a blank string', '   '],
      ['a word', 'abc'],
      ['a string exponent', '1e3'],
      ['an upper-case string exponent', '1E3'],
      ['a huge JSON number (exponent form)', 1e21],
      ['a leading plus', '+5'],
      ['a bare fraction', '.5'],
      ['a trailing dot', '5.'],
      ['a thousands separator', '1,000'],
      ['a decimal comma', '10,50'],
      ['hexadecimal', '0x10'],
      ['a currency suffix', '10 USD'],
      ['a currency symbol', '$10'],
      ['inner spaces', '1 000'],
      ['two dots', '1.2.3'],
      ['a double minus', '--1'],
      ['non-ASCII digits', '\u0661\u0662'],
    ])('refuses %s as not a number', (_label, input) => {
      expect(messageOf(input)).toBe(NOT_A_NUMBER);
    });

    it.each([
      ['0', '0'],
      ['0 (number)', 0],
      ['-0 (number)', -0],
      ['"-0"', '-0'],
      ['"0.00"', '0.00'],
      ['"-0.00"', '-0.00'],
      ['"0.000"', '0.000'],
      ['-5 (number)', -5],
      ['"-5"', '-5'],
      ['"-0.01"', '-0.01'],
      ['a long negative', '-' + '9'.repeat(100)],
    ])('refuses %s as not greater than zero', (_label, input) => {
      expect(messageOf(input)).toBe('amount must be greater than zero');
    });

    it.each([
      ['"1.001" USD', '1.001', USD, 'amount has more than 2 decimal places for USD'],
      ['1.005 (number) USD', 1.005, USD, 'amount has more than 2 decimal places for USD'],
      ['0.1 + 0.2 USD', 0.1 + 0.2, USD, 'amount has more than 2 decimal places for USD'],
      ['"1.001" KES', '1.001', KES, 'amount has more than 2 decimal places for KES'],
      ['"0.000000001" BTC', '0.000000001', BTC, 'amount has more than 8 decimal places for BTC'],
      ['"0.5" JPY', '0.5', JPY, 'amount has more than 0 decimal places for JPY'],
      ['"-1.001" USD', '-1.001', USD, 'amount has more than 2 decimal places for USD'],
      ['a long fraction', '0.' + '1'.repeat(100), USD, 'amount has more than 2 decimal places for USD'],
    ])('refuses %s as too precise', (_label, input, currency, message) => {
      expect(messageOf(input, currency)).toBe(message);
    });

    it('refuses a JSON number with more than 15 significant digits, but not the same string', () => {
      expect(messageOf(1234567890123456, KES)).toBe(
        'amount has too many digits to be exact as a number: send it as a string',
      );
      expect(messageOf(12345678.12345678, BTC)).toBe(
        'amount has too many digits to be exact as a number: send it as a string',
      );
      // 15 significant digits are exact.
      const wide: CurrencyInfo = { code: 'XTS', decimals: 2, maxAmount: 10n ** 20n };
      expect(parseAmount(1234567890123.45, wide)).toBe(123456789012345n);
      expect(messageOf(12345678901234.56, wide)).toBe(
        'amount has too many digits to be exact as a number: send it as a string',
      );
      expect(parseAmount('12345678901234.56', wide)).toBe(1234567890123456n);
      expect(parseAmount(999.12345678, BTC)).toBe(99912345678n);
    });

    it('refuses amounts above the maximum with the maximum in the message', () => {
      expect(messageOf('99999999999', USD)).toBe('amount must be at most 10000000.00 USD');
      expect(messageOf(123456789012345, USD)).toBe('amount must be at most 10000000.00 USD');
      expect(messageOf('1001', BTC)).toBe('amount must be at most 1000.00000000 BTC');
    });

    it('names the field given in every message', () => {
      expect(messageOf(undefined, USD, 'min_amount')).toBe('min_amount is required');
      expect(messageOf('x', USD, 'min_amount')).toBe('min_amount must be a number such as 10.50');
      expect(messageOf('0', USD, 'min_amount')).toBe('min_amount must be greater than zero');
      expect(messageOf('1.001', USD, 'min_amount')).toBe('min_amount has more than 2 decimal places for USD');
      expect(messageOf(1234567890123456, USD, 'min_amount')).toBe(
        'min_amount has too many digits to be exact as a number: send it as a string',
      );
      expect(messageOf('10000000.01', USD, 'min_amount')).toBe('min_amount must be at most 10000000.00 USD');
      expect(refusal('x', USD, 'min_amount').field).toBe('min_amount');
    });

    it('throws an AmountError that is an Error with field and name', () => {
      const error = refusal('abc');
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('AmountError');
      expect(error.field).toBe('amount');
    });

    it('reads a JSON number below 1e-6 (JavaScript writes it with an exponent) as its decimal', () => {
      // JSON.parse('0.00000001') is the double whose String() is "1e-8"; see decimal.ts.
      expect(parseAmount(0.00000001, BTC)).toBe(1n);
      expect(messageOf(0.0000001, USD)).toBe('amount has more than 2 decimal places for USD');
    });
  });

  describe('very long strings', () => {
    it('refuses a long digit string as above the maximum', () => {
      expect(messageOf('9'.repeat(1000))).toBe('amount must be at most 10000000.00 USD');
      expect(messageOf('9'.repeat(41))).toBe('amount must be at most 10000000.00 USD');
    });

    it('refuses long garbage as not a number', () => {
      expect(messageOf('x'.repeat(10_000))).toBe(NOT_A_NUMBER);
      expect(messageOf('1'.repeat(100) + 'e5')).toBe(NOT_A_NUMBER);
    });

    it('refuses a 200,000-character digit run quickly (no regex backtracking blow-up)', () => {
      const started = performance.now();
      expect(messageOf('1'.repeat(200_000) + 'x')).toBe(NOT_A_NUMBER);
      expect(messageOf('0.' + '0'.repeat(200_000) + '1')).toBe('amount has more than 2 decimal places for USD');
      expect(performance.now() - started).toBeLessThan(1000);
    });

    it('still trims surrounding whitespace of a long string', () => {
      expect(parseAmount(' '.repeat(1000) + '25.00' + ' '.repeat(1000), USD)).toBe(2500n);
    });
  });
});

describe('toDecimalString', () => {
  it.each([
    [100050n, 2, '1000.50'],
    [1n, 2, '0.01'],
    [0n, 2, '0.00'],
    [12345n, 8, '0.00012345'],
    [500n, 0, '500'],
  ])('renders %s at %s as %j', (minor, decimals, expected) => {
    expect(toDecimalString(minor, decimals)).toBe(expected);
  });
});

describe('toMajor', () => {
  it.each([
    [100050n, 2, 1000.5],
    [10000n, 2, 100],
    [1n, 2, 0.01],
    [0n, 2, 0],
    [-250n, 2, -2.5],
    [12345n, 8, 0.00012345],
    [100_000_000_000n, 8, 1000],
    [100_000_000_000n, 2, 1000000000],
    [999_999_999_999_999n, 2, 9999999999999.99],
  ])('turns %s at %s into %s', (minor, decimals, expected) => {
    expect(toMajor(minor, decimals)).toBe(expected);
  });

  it('serialises as the decimal it stands for', () => {
    expect(JSON.stringify({ amount: toMajor(100050n, 2) })).toBe('{"amount":1000.5}');
    expect(JSON.stringify({ amount: toMajor(2999n, 2) })).toBe('{"amount":29.99}');
  });

  it('throws rather than round when the value has more than 15 significant digits', () => {
    expect(() => toMajor(1_000_000_000_000_001n, 2)).toThrow(/more than 15 significant digits/);
    expect(() => toMajor(123_456_789_012_345_678n, 8)).toThrow(/more than 15 significant digits/);
    // Trailing zeros are not significant: 10^20 minor units is exact.
    expect(toMajor(10n ** 20n, 2)).toBe(1e18);
  });
});

describe('formatForMessage', () => {
  it('renders the amount with all places and the currency code', () => {
    expect(formatForMessage(3000n, USD)).toBe('30.00 USD');
    expect(formatForMessage(12345n, BTC)).toBe('0.00012345 BTC');
    expect(formatForMessage(500n, JPY)).toBe('500 JPY');
  });
});

describe('formatTrimmed', () => {
  it.each([
    [20000n, 6, '0.02'],
    [1_000_000n, 6, '1'],
    [10_000_000n, 6, '10'],
    [1_500_000n, 6, '1.5'],
    [0n, 6, '0'],
    [100n, 0, '100'],
  ])('renders %s at %s as %j', (value, scale, expected) => {
    expect(formatTrimmed(value, scale)).toBe(expected);
  });
});

describe('round trips', () => {
  const cases: [CurrencyInfo, bigint[]][] = [USD, KES, BTC, JPY].map((currency) => [
    currency,
    [
      1n,
      9n,
      10n,
      99n,
      100n,
      101n,
      currency.maxAmount - 1n,
      currency.maxAmount,
      ...randomBigints(0x9e3779b97f4a7c15n + BigInt(currency.decimals), 2000, currency.maxAmount),
    ],
  ]);

  it('parses the decimal string of every amount back to the same minor units', () => {
    for (const [currency, values] of cases) {
      for (const minor of values) {
        expect(parseAmount(toDecimalString(minor, currency.decimals), currency)).toBe(minor);
      }
    }
  });

  it('parses the JSON number of every amount back to the same minor units', () => {
    for (const [currency, values] of cases) {
      for (const minor of values) {
        const json = JSON.parse(JSON.stringify({ amount: toMajor(minor, currency.decimals) })) as { amount: number };
        // Below 1e-6 a JSON number prints with an exponent, which parseAmount refuses (see above).
        if (json.amount < 1e-6) continue;
        expect(parseAmount(json.amount, currency)).toBe(minor);
      }
    }
  });
});
