// finiteNumber: class-validator's maxDecimalPlaces threw on 1e-7 (a 500 in the fuzz suite).
import { validate } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { decimalPlacesOf, finiteNumber } from './dto-validators.js';

class Probe {
  @finiteNumber(8)
  value: unknown;
}

async function errorsFor(value: unknown): Promise<string[]> {
  const probe = Object.assign(new Probe(), { value });
  return (await validate(probe)).flatMap((error) => Object.values(error.constraints ?? {}));
}

describe('decimalPlacesOf', () => {
  it.each([
    [100, 0],
    [100.5, 1],
    [0.12345678, 8],
    [1e-7, 7],
    [1.25e-5, 7],
    [1e21, 0],
    [-3.5e-9, 10],
  ])('%s has %s', (value, places) => expect(decimalPlacesOf(value)).toBe(places));
});

describe('finiteNumber(8)', () => {
  it.each([0, 100, -100.5, 0.00000001, 1e-8, 1e15])('accepts %s', async (value) => {
    expect(await errorsFor(value)).toEqual([]);
  });

  it.each([1e-9, 1e-300, 0.123456789, NaN, Infinity, '100', null, [1], { a: 1 }, true])(
    'refuses %s with a message',
    async (value) => {
      expect(await errorsFor(value)).toEqual(['value must be a number with at most 8 decimal places']);
    },
  );
});
