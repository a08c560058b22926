import { describe, expect, it } from 'vitest';
import { DecimalParseError, type DecimalProblem, formatScaled, parseScaled } from './decimal.js';

function problemOf(input: unknown, scale: number): DecimalProblem | 'no error' | 'other error' {
  try {
    parseScaled(input, scale);
    return 'no error';
  } catch (error) {
    return error instanceof DecimalParseError ? error.problem : 'other error';
  }
}

describe('parseScaled', () => {
  describe('JSON numbers', () => {
    it.each([
      [100, 2, 10000n],
      [100.5, 2, 10050n],
      [0.1, 2, 10n],
      [1000.5, 2, 100050n],
      [0, 2, 0n],
      [7, 0, 7n],
      [0.00000123, 8, 123n],
      [-1.25, 2, -125n],
    ])('reads %s at scale %s as %s', (input, scale, expected) => {
      expect(parseScaled(input, scale)).toBe(expected);
    });

    it('refuses NaN and infinities as not_a_number', () => {
      expect(problemOf(Number.NaN, 2)).toBe('not_a_number');
      expect(problemOf(Number.POSITIVE_INFINITY, 2)).toBe('not_a_number');
      expect(problemOf(Number.NEGATIVE_INFINITY, 2)).toBe('not_a_number');
    });

    it('refuses large numbers whose shortest form uses an exponent', () => {
      expect(problemOf(1e21, 2)).toBe('exponent');
    });

    it('refuses JSON numbers with more significant digits than a double holds exactly', () => {
      // eslint-disable-next-line no-loss-of-precision -- the point: this literal is not exact as a double
      expect(problemOf(9007199254740993, 0)).toBe('inexact');
      expect(problemOf(12345678.12345678, 8)).toBe('inexact');
      expect(parseScaled(123456789012345, 0)).toBe(123456789012345n);
      expect(parseScaled(0.00012345678901, 14)).toBe(12345678901n);
      expect(parseScaled('9007199254740993', 0)).toBe(9007199254740993n);
    });

    it('refuses a float sum that is not the decimal it looks like (0.1 + 0.2)', () => {
      expect(String(0.1 + 0.2)).toBe('0.30000000000000004');
      expect(problemOf(0.1 + 0.2, 2)).toBe('too_precise');
    });
  });

  describe('strings', () => {
    it.each([
      ['10.50', 2, 1050n],
      [' 7 ', 2, 700n],
      ['1.500', 2, 150n],
      ['-1.25', 2, -125n],
      ['0', 2, 0n],
      ['007.10', 2, 710n],
      ['0.00000001', 8, 1n],
      ['12', 0, 12n],
      ['12.000', 0, 12n],
    ])('reads %j at scale %s as %s', (input, scale, expected) => {
      expect(parseScaled(input, scale)).toBe(expected);
    });

    it('refuses an exponent', () => {
      expect(problemOf('1e3', 2)).toBe('exponent');
      expect(problemOf('1E3', 2)).toBe('exponent');
    });

    it('refuses more fractional digits than the scale', () => {
      expect(problemOf('1.001', 2)).toBe('too_precise');
      expect(problemOf('0.5', 0)).toBe('too_precise');
    });

    it.each(['abc', '', '   ', '1.', '.5', '+1', '0x10', '1,5', '1.2.3', '--1', '1 000'])(
      'refuses %j as not_a_number',
      (input) => {
        expect(problemOf(input, 2)).toBe('not_a_number');
      },
    );

    it('refuses a 60-digit string as too_large', () => {
      expect(problemOf('1'.repeat(60), 2)).toBe('too_large');
    });

    it('counts digits, not characters, against the 40-digit limit', () => {
      expect(problemOf('1'.repeat(41), 0)).toBe('too_large');
      expect(problemOf('-' + '1'.repeat(20) + '.' + '1'.repeat(21), 21)).toBe('too_large');
    });

    it.each(['yes', 'one', 'e', 'x'.repeat(50)])(
      'refuses the word %j as not_a_number (not as an exponent)',
      (input) => {
        expect(problemOf(input, 2)).toBe('not_a_number');
      },
    );

    it('accepts a 40-digit string', () => {
      expect(parseScaled('9'.repeat(40), 0)).toBe(BigInt('9'.repeat(40)));
    });
  });

  describe('other types', () => {
    it.each([
      ['an object', { amount: 1 }],
      ['an array', [1]],
      ['null', null],
      ['undefined', undefined],
      ['true', true],
      ['false', false],
      ['a bigint', 10n],
    ])('refuses %s as not_a_number', (_label, input) => {
      expect(problemOf(input, 2)).toBe('not_a_number');
    });
  });

  it('throws a DecimalParseError carrying a readable message', () => {
    let caught: unknown;
    try {
      parseScaled('1.001', 2);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DecimalParseError);
    expect(caught).toBeInstanceOf(Error);
    expect((caught as DecimalParseError).name).toBe('DecimalParseError');
    expect((caught as DecimalParseError).message).toBe('must have at most 2 decimal places');
  });
});

describe('formatScaled', () => {
  it.each([
    [0n, 2, '0.00'],
    [5n, 2, '0.05'],
    [-5n, 2, '-0.05'],
    [10050n, 2, '100.50'],
    [-125n, 2, '-1.25'],
    [0n, 0, '0'],
    [42n, 0, '42'],
    [-42n, 0, '-42'],
    [1n, 8, '0.00000001'],
    [123456789n, 8, '1.23456789'],
    [100000000000n, 8, '1000.00000000'],
  ])('renders %s at scale %s as %j', (value, scale, expected) => {
    expect(formatScaled(value, scale)).toBe(expected);
  });
});

describe('round trips', () => {
  it.each([
    ['10.50', 2, '10.50'],
    ['1.5', 2, '1.50'],
    ['1.500', 2, '1.50'],
    [' 7 ', 2, '7.00'],
    ['-1.25', 2, '-1.25'],
    ['0', 0, '0'],
    ['123', 0, '123'],
    ['0.00000001', 8, '0.00000001'],
    ['21000000.12345678', 8, '21000000.12345678'],
    [100.5, 2, '100.50'],
    [0.1, 8, '0.10000000'],
    [1000.5, 2, '1000.50'],
  ])('formatScaled(parseScaled(%j, %s)) is %j', (input, scale, expected) => {
    expect(formatScaled(parseScaled(input, scale), scale)).toBe(expected);
  });

  it('parses what it formats back to the same value', () => {
    for (const value of [0n, 1n, -1n, 99n, 100n, -12345n, 10n ** 20n]) {
      for (const scale of [0, 2, 8]) {
        expect(parseScaled(formatScaled(value, scale), scale)).toBe(value);
      }
    }
  });
});

describe('hostile and small inputs', () => {
  it('classifies a 100,000-character digit run quickly', () => {
    const started = Date.now();
    expect(() => parseScaled(`${'1'.repeat(100_000)}x`, 2)).toThrow(DecimalParseError);
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('reads JSON numbers JavaScript writes with a negative exponent as the decimals they are', () => {
    expect(parseScaled(0.00000001, 8)).toBe(1n);
    expect(parseScaled(1.5e-7, 8)).toBe(15n);
    expect(parseScaled(-2e-7, 8)).toBe(-20n);
    expect(() => parseScaled(1e-9, 8)).toThrow(/at most 8 decimal places/);
    expect(() => parseScaled('1e-8', 8)).toThrow(/without an exponent/);
  });
});
