// Fee arithmetic on integer minor units; rates and shares are integers scaled by 10^6 (micros).
import { formatTrimmed } from './money.js';

const MICROS = 1_000_000n;
const HALF_MICRO = 500_000n;

export interface FeeRule {
  /** Proportional rate scaled by 10^6: 0.02 is 20000n. */
  rateMicros: bigint;
  fixedMinor: bigint;
  minMinor: bigint;
  /** No upper bound when null. */
  maxMinor: bigint | null;
}

/** The fee on `amountMinor`: rate × amount rounded half-up to the minor unit, plus fixed, clamped to [min, max]. */
export function computeFee(amountMinor: bigint, rule: FeeRule): bigint {
  // Half-up by adding half before truncating is only right for non-negative values, and a
  // negative amount or rule is a bug upstream, not something to charge for.
  requireNonNegative({ amountMinor, ...rule });
  const proportional = (amountMinor * rule.rateMicros + HALF_MICRO) / MICROS;
  let fee = proportional + rule.fixedMinor;
  if (fee < rule.minMinor) fee = rule.minMinor;
  if (rule.maxMinor !== null && fee > rule.maxMinor) fee = rule.maxMinor;
  return fee;
}

/** Commission share of a fee (e.g. 75% for agents), rounded down: the platform keeps the remainder. */
export function shareOf(amountMinor: bigint, shareMicros: bigint): bigint {
  requireNonNegative({ amountMinor, shareMicros });
  if (shareMicros > MICROS) throw new RangeError(`shareMicros ${shareMicros} is more than 100%`);
  return (amountMinor * shareMicros) / MICROS;
}

/** The applied rate as the API shows it: 20000n is "0.02", 5000n is "0.005", 1000000n is "1". */
export function rateToString(rateMicros: bigint): string {
  return formatTrimmed(rateMicros, 6);
}

function requireNonNegative(values: Record<string, bigint | null>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value !== null && value < 0n) throw new RangeError(`${name} must not be negative, got ${value}`);
  }
}
