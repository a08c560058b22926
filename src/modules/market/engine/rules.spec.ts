// Which orders a pair's rules refuse and with what, and the money arithmetic of fills and locks.
import { describe, expect, it } from 'vitest';
import { assertPairRules, buyLock, feeOf, quoteOf, validateOrder } from './rules.js';
import type { OrderInput, PairRules } from './types.js';

const RULES: PairRules = {
  symbol: 'BTC-EUR',
  base: 'BTC',
  quote: 'EUR',
  quoteDecimals: 2,
  baseDecimals: 8,
  priceTick: 1n, // 0.01 EUR
  amountStep: 1n, // 1 satoshi
  minAmount: 10_000n, // 0.0001 BTC
  maxAmount: 100_000_000_000n, // 1000 BTC
  makerFeePpm: 1000n,
  takerFeePpm: 2000n,
};

const order = (overrides: Partial<OrderInput> = {}): OrderInput => ({
  id: 'o1',
  ownerId: 'alice',
  side: 'buy',
  type: 'limit',
  price: 2_000_050n,
  amount: 1_000_000n,
  timeInForce: 'gtc',
  postOnly: false,
  ...overrides,
});

describe('validateOrder', () => {
  it('accepts a plain limit order and a plain market order', () => {
    expect(validateOrder(RULES, order())).toBeUndefined();
    expect(validateOrder(RULES, order({ type: 'market', price: undefined, timeInForce: 'ioc' }))).toBeUndefined();
    expect(validateOrder(RULES, order({ postOnly: true }))).toBeUndefined();
  });

  it.each([
    [
      'a price off the tick',
      { price: 2_000_050n },
      { ...RULES, priceTick: 100n },
      'price',
      'price must be a multiple of 1.00 EUR',
    ],
    ['a zero price', { price: 0n }, RULES, 'price', 'price must be greater than zero'],
    ['a negative price', { price: -100n }, RULES, 'price', 'price must be greater than zero'],
    ['a zero amount', { amount: 0n }, RULES, 'amount', 'amount must be greater than zero'],
    [
      'an amount off the step',
      { amount: 1_000_001n },
      { ...RULES, amountStep: 100n },
      'amount',
      'amount must be a multiple of 0.000001 BTC',
    ],
    ['an amount below the minimum', { amount: 9_999n }, RULES, 'amount', 'amount must be at least 0.0001 BTC'],
    ['an amount above the maximum', { amount: 100_000_000_001n }, RULES, 'amount', 'amount must be at most 1000 BTC'],
    [
      'a market order with a price',
      { type: 'market' as const },
      RULES,
      'price',
      'price must not be given for a market order',
    ],
    ['a limit order without a price', { price: undefined }, RULES, 'price', 'price is required for a limit order'],
    [
      'post_only with fok',
      { postOnly: true, timeInForce: 'fok' as const },
      RULES,
      'post_only',
      'post_only cannot be combined with time_in_force fok',
    ],
    [
      'post_only with ioc',
      { postOnly: true, timeInForce: 'ioc' as const },
      RULES,
      'post_only',
      'post_only cannot be combined with time_in_force ioc',
    ],
    [
      'post_only on a market order',
      { type: 'market' as const, price: undefined, postOnly: true },
      RULES,
      'post_only',
      'post_only is only for limit orders',
    ],
    ['an unknown side', { side: 'hold' as never }, RULES, 'side', 'side must be buy or sell'],
    ['an unknown type', { type: 'stop' as never }, RULES, 'type', 'type must be limit or market'],
    [
      'an unknown time in force',
      { timeInForce: 'day' as never },
      RULES,
      'time_in_force',
      'time_in_force must be gtc, ioc or fok',
    ],
  ])('refuses %s', (_name, overrides, rules, field, message) => {
    expect(validateOrder(rules, order(overrides))).toEqual({ code: 'VALIDATION_FAILED', field, message });
  });

  it('takes the minimum and maximum themselves', () => {
    expect(validateOrder(RULES, order({ amount: RULES.minAmount }))).toBeUndefined();
    expect(validateOrder(RULES, order({ amount: RULES.maxAmount }))).toBeUndefined();
  });
});

describe('money of a fill', () => {
  it('quoteOf is price × qty / 10^8 rounded down', () => {
    expect(quoteOf(2_000_050n, 1_000_000n)).toBe(20_000n); // 20000.50 × 0.01 = 200.0005 → 200.00
    expect(quoteOf(2_000_050n, 100_000_000n)).toBe(2_000_050n);
    expect(quoteOf(2_000_050n, 1n)).toBe(0n);
  });

  it('buyLock is price × amount / 10^8 rounded up', () => {
    expect(buyLock(2_000_050n, 1_000_000n)).toBe(20_001n); // 200.0005 → 200.01
    expect(buyLock(2_000_050n, 100_000_000n)).toBe(2_000_050n); // exact: nothing added
    expect(buyLock(2_000_050n, 1n)).toBe(1n);
  });

  it('feeOf rounds half-up to the minor unit', () => {
    expect(feeOf(250n, 2000n)).toBe(1n); // 0.5 → 1
    expect(feeOf(249n, 2000n)).toBe(0n); // 0.498 → 0
    expect(feeOf(20_000n, 1000n)).toBe(20n);
    expect(feeOf(1_000_000n, 2000n)).toBe(2000n);
  });
});

describe('assertPairRules', () => {
  it('accepts the configured pairs and refuses rules no book can use', () => {
    expect(() => assertPairRules(RULES)).not.toThrow();
    expect(() => assertPairRules({ ...RULES, baseDecimals: 6 })).toThrow(/baseDecimals must be 8/);
    expect(() => assertPairRules({ ...RULES, priceTick: 0n })).toThrow(/priceTick/);
    expect(() => assertPairRules({ ...RULES, minAmount: RULES.maxAmount + 1n })).toThrow(/minAmount/);
    expect(() => assertPairRules({ ...RULES, takerFeePpm: 1_000_001n })).toThrow(/takerFeePpm/);
  });
});
