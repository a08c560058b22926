// Order validation against a pair's rules, and the money arithmetic every fill and lock uses.
import { formatTrimmed, toDecimalString } from '../../../shared/money.js';
import type { OrderInput, PairRules, Refusal } from './types.js';

/** Satoshi per BTC: prices are per whole BTC, amounts are satoshi. */
export const SATS_PER_BTC = 100_000_000n;
const BASE_DECIMALS = 8;
const PPM = 1_000_000n;
const HALF_PPM = 500_000n;

/**
 * What a fill of `qty` satoshi at `price` costs, in quote minor units, rounded down: the sum of a
 * buy's fills then never exceeds `buyLock` of the same amount at its limit, since every fill is at
 * or below that limit and floor(a) + floor(b) ≤ ceil(a + b).
 */
export function quoteOf(price: bigint, qty: bigint): bigint {
  return (price * qty) / SATS_PER_BTC;
}

/** What a limit buy locks: price × amount in quote minor units, rounded up. */
export function buyLock(price: bigint, amount: bigint): bigint {
  return (price * amount + SATS_PER_BTC - 1n) / SATS_PER_BTC;
}

/** A fee in parts per million of `received`, rounded half-up to the minor unit (received ≥ 0). */
export function feeOf(received: bigint, feePpm: bigint): bigint {
  return (received * feePpm + HALF_PPM) / PPM;
}

/** Refuses rules no book can work with: a config mistake, found when the book is made. */
export function assertPairRules(rules: PairRules): void {
  const problems: string[] = [];
  if (rules.baseDecimals !== BASE_DECIMALS) problems.push(`baseDecimals must be ${BASE_DECIMALS}`);
  if (!Number.isInteger(rules.quoteDecimals) || rules.quoteDecimals < 0 || rules.quoteDecimals > 18) {
    problems.push('quoteDecimals must be an integer from 0 to 18');
  }
  if (rules.priceTick <= 0n) problems.push('priceTick must be positive');
  if (rules.amountStep <= 0n) problems.push('amountStep must be positive');
  if (rules.minAmount <= 0n || rules.minAmount > rules.maxAmount) problems.push('need 0 < minAmount ≤ maxAmount');
  for (const fee of ['makerFeePpm', 'takerFeePpm'] as const) {
    if (rules[fee] < 0n || rules[fee] > PPM) problems.push(`${fee} must be from 0 to 1000000`);
  }
  if (problems.length > 0) throw new RangeError(`pair ${rules.symbol}: ${problems.join('; ')}`);
}

const invalid = (field: string, message: string): Refusal => ({ code: 'VALIDATION_FAILED', field, message });

/**
 * Why `order` may not be placed under `rules`, or undefined when it may. Checks what the book
 * alone can tell; affordability is the caller's (it needs balances).
 */
export function validateOrder(rules: PairRules, order: OrderInput): Refusal | undefined {
  const { side, type, timeInForce, amount, price } = order;
  if (side !== 'buy' && side !== 'sell') return invalid('side', 'side must be buy or sell');
  if (type !== 'limit' && type !== 'market') return invalid('type', 'type must be limit or market');
  if (timeInForce !== 'gtc' && timeInForce !== 'ioc' && timeInForce !== 'fok') {
    return invalid('time_in_force', 'time_in_force must be gtc, ioc or fok');
  }

  if (amount <= 0n) return invalid('amount', 'amount must be greater than zero');
  if (amount % rules.amountStep !== 0n) {
    return invalid('amount', `amount must be a multiple of ${baseText(rules.amountStep, rules)}`);
  }
  if (amount < rules.minAmount) return invalid('amount', `amount must be at least ${baseText(rules.minAmount, rules)}`);
  if (amount > rules.maxAmount) return invalid('amount', `amount must be at most ${baseText(rules.maxAmount, rules)}`);

  if (type === 'market') {
    if (price !== undefined) return invalid('price', 'price must not be given for a market order');
    if (order.postOnly) return invalid('post_only', 'post_only is only for limit orders');
    return undefined;
  }
  if (price === undefined) return invalid('price', 'price is required for a limit order');
  if (price <= 0n) return invalid('price', 'price must be greater than zero');
  if (price % rules.priceTick !== 0n) {
    return invalid('price', `price must be a multiple of ${quoteText(rules.priceTick, rules)}`);
  }
  // A post-only order may only ever rest; fok and ioc never rest, so together they could never fill.
  if (order.postOnly && timeInForce !== 'gtc') {
    return invalid('post_only', `post_only cannot be combined with time_in_force ${timeInForce}`);
  }
  return undefined;
}

/** "0.0001 BTC": an amount for a message. */
export const baseText = (sats: bigint, rules: PairRules): string =>
  `${formatTrimmed(sats, BASE_DECIMALS)} ${rules.base}`;

/** "20000.50 EUR": a price for a message, with all of the quote currency's places. */
export const quoteText = (minor: bigint, rules: PairRules): string =>
  `${toDecimalString(minor, rules.quoteDecimals)} ${rules.quote}`;
