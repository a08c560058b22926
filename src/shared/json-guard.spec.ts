import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonical, inspectJson, MAX_JSON_DEPTH } from './json-guard.js';

describe('inspectJson: depth', () => {
  it('accepts nesting up to the limit and refuses one level more', () => {
    const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(inspectJson(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(inspectJson(nested(MAX_JSON_DEPTH + 1))).toMatchObject({ kind: 'depth' });
    expect(inspectJson(`{"a":${'{"b":'.repeat(40)}1${'}'.repeat(40)}}`)).toMatchObject({ kind: 'depth' });
  });

  it('refuses the 2.7 KB frame that overflowed class-transformer', () => {
    expect(inspectJson(`{"amount":${'['.repeat(1300)}${']'.repeat(1300)}}`)).toMatchObject({ kind: 'depth' });
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(inspectJson(`{"a":"${'['.repeat(100)}","b":"\\"${'{'.repeat(100)}"}`)).toBeUndefined();
  });

  it('starts where it is told (a socket.io packet prefix)', () => {
    expect(inspectJson('2/user,12["transfer",{"amount":"1.00"}]', 10)).toBeUndefined();
  });
});

describe('inspectJson: numbers', () => {
  it.each([
    '0',
    '-0',
    '1',
    '0.1',
    '1000.5',
    '-12.34',
    '1e2',
    '1E-8',
    '2.50e+3',
    '9007199254740991',
    '1.000000000000000000000',
    '123456789012345',
    '0.00000001',
    '1e20',
  ])('accepts %s, which is exactly its double', (text) => {
    expect(inspectJson(`{"amount":${text}}`)).toBeUndefined();
  });

  it.each([
    '0.999999999999999999999',
    '2.000000000000000000001',
    '9007199254740993',
    '12345678901234567890',
    '1e400',
    '-1e400',
    '1e-400',
    '0.1000000000000000000000001',
  ])('refuses %s, which a double cannot hold exactly, naming the field', (text) => {
    expect(inspectJson(`{"to_user_id":"2","amount":${text}}`)).toEqual({
      kind: 'number',
      field: 'amount',
      text,
      message: `amount: the number ${text} cannot be represented exactly; send it as a decimal string`,
    });
  });

  it('names the key of the array holding the number', () => {
    expect(inspectJson('{"ids":[1,2,9007199254740993]}')).toMatchObject({ kind: 'number', field: 'ids' });
  });

  it('has no field for a bare number', () => {
    expect(inspectJson('[1e999]')).toMatchObject({ kind: 'number', field: undefined });
  });

  it('leaves digits inside strings alone', () => {
    expect(inspectJson('{"amount":"0.999999999999999999999"}')).toBeUndefined();
  });

  it('agrees with a round trip through the double for any decimal literal', () => {
    const literal = fc
      .tuple(
        fc.boolean(),
        fc.stringMatching(/^[0-9]{1,25}$/),
        fc.stringMatching(/^[0-9]{0,25}$/),
        fc.integer({ min: -30, max: 30 }),
      )
      .map(([negative, whole, fraction, exponent]) => {
        const mantissa = `${negative ? '-' : ''}${whole.replace(/^0+(?=\d)/, '')}${fraction ? `.${fraction}` : ''}`;
        return exponent === 0 ? mantissa : `${mantissa}e${exponent}`;
      });
    fc.assert(
      fc.property(literal, (text) => {
        const exact = canonical(text) === canonical(String(Number(text)));
        expect(inspectJson(`[${text}]`) === undefined).toBe(exact);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('inspectJson: NUL characters', () => {
  it('refuses a \\u0000 escape in a value, naming the field', () => {
    expect(inspectJson('{"currency":"USD","idempotency_key":"a\\u0000b"}')).toEqual({
      kind: 'nul',
      field: 'idempotency_key',
      message: 'idempotency_key: the text must not contain the NUL character (\\u0000)',
    });
    expect(inspectJson('{"ids":["1","\\u0000"]}')).toMatchObject({ kind: 'nul', field: 'ids' });
    expect(inspectJson('["\\u0000"]')).toMatchObject({ kind: 'nul', field: undefined });
    expect(inspectJson('{"a":"\\u0001\\u00000\\n"}')).toMatchObject({ kind: 'nul', field: 'a' });
  });

  it('refuses it in a key, without a field', () => {
    expect(inspectJson('{"a":1,"b\\u0000" : 2}')).toMatchObject({
      kind: 'nul',
      field: undefined,
      message: expect.stringMatching(/^a key /),
    });
  });

  it('leaves other escapes alone, an escaped backslash before "u0000" included', () => {
    expect(inspectJson('{"a":"\\u0001\\u0020\\n\\"\\t"}')).toBeUndefined();
    expect(inspectJson('{"a":"\\\\u0000"}')).toBeUndefined();
    expect(JSON.parse('{"a":"\\\\u0000"}')).toEqual({ a: '\\u0000' });
  });
});

describe('canonical', () => {
  it.each([
    ['0', '0'],
    ['-0.000', '0'],
    ['100', '1e2'],
    ['1.50', '15e-1'],
    ['1e+21', '1e21'],
    ['-0.001', '-1e-3'],
  ])('%s → %s', (text, expected) => {
    expect(canonical(text)).toBe(expected);
  });
});
