// Exchange rates as integers scaled by 10^12, and exact currency conversion in minor units.
import { AmountError, type DecimalRefusal, formatTrimmed, readPositiveDecimal } from './money.js';

const RATE_SCALE = 12;
const RATE_ONE = 10n ** BigInt(RATE_SCALE);
/** At most 12 integer digits: anything larger is a typo, not a rate. */
const RATE_LIMIT = 10n ** 12n * RATE_ONE;

const RATE_MESSAGES: Record<DecimalRefusal, string> = {
  required: 'rate is required',
  not_a_number: 'rate must be a number such as 0.925',
  not_positive: 'rate must be greater than zero',
  too_many_places: `rate has more than ${RATE_SCALE} decimal places`,
  too_many_digits: 'rate has too many digits to be exact as a number: send it as a string',
  too_large: 'rate has more than 12 digits before the decimal point',
};

/** Parses a rate given as a decimal string or number: > 0, at most 12 decimal places, at most 12 integer digits. Returns it as an integer scaled by 10^12. */
export function parseRate(input: unknown): bigint {
  const reading = readPositiveDecimal(input, RATE_SCALE);
  if (reading.ok && reading.value < RATE_LIMIT) return reading.value;
  throw new AmountError('rate', RATE_MESSAGES[reading.ok ? 'too_large' : reading.refusal]);
}

/** The rate as the API shows it, without trailing zeros: "0.925", "129.5", "1". */
export function rateScaledToString(rate: bigint): string {
  return formatTrimmed(rate, RATE_SCALE);
}

/**
 * Converts minor units of the source currency at `rate` (scaled 1e12, destination per source
 * unit) into minor units of the destination, rounded down (the fraction stays with the house).
 */
export function convertMinor(
  amountMinor: bigint,
  sourceDecimals: number,
  destDecimals: number,
  rateScaled: bigint,
): bigint {
  // One multiplication chain, one division: exact, and bigint division truncates, which is the
  // floor for the non-negative values allowed here.
  if (amountMinor < 0n) throw new RangeError(`amountMinor must not be negative, got ${amountMinor}`);
  if (rateScaled <= 0n) throw new RangeError(`rateScaled must be positive, got ${rateScaled}`);
  const numerator = amountMinor * rateScaled * 10n ** BigInt(destDecimals);
  return numerator / (RATE_ONE * 10n ** BigInt(sourceDecimals));
}
