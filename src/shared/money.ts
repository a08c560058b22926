// Client amounts: reading them into integer minor units (with the messages clients see) and back.
import { DecimalParseError, formatScaled, parseScaled } from './decimal.js';

export interface CurrencyInfo {
  code: string;
  decimals: number;
  /** Largest amount a single operation may move, in minor units. */
  maxAmount: bigint;
}

/** A refused client amount; the caller maps it to its own error type (e.g. a validation error). */
export class AmountError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'AmountError';
  }
}

/** Why a decimal was refused; each caller words the message for its own field. */
export type DecimalRefusal =
  'required' | 'not_a_number' | 'not_positive' | 'too_many_places' | 'too_many_digits' | 'too_large';

export type DecimalReading = { ok: true; value: bigint } | { ok: false; refusal: DecimalRefusal };

/**
 * Strings longer than this are classified without parseScaled: nothing valid is this long, and
 * and a bound keeps hostile inputs cheap whatever they look like.
 */
const MAX_TEXT_LENGTH = 64;
/** Linear on any input: one anchored, unambiguous pass. */
const PLAIN_DECIMAL = /^-?\d+(?:\.\d+)?$/;
/** Any decimal of at most 15 significant digits survives a trip through a double unchanged. */
const MAX_EXACT_DIGITS = 15;

/**
 * Reads a decimal that must be greater than zero, scaled by 10^scale. Shared by amounts and FX
 * rates. Order of checks (parseScaled's): shape, fractional places, JSON-number precision, then
 * sign and size.
 */
export function readPositiveDecimal(input: unknown, scale: number): DecimalReading {
  if (input === undefined || input === null) return { ok: false, refusal: 'required' };
  const text = typeof input === 'number' ? String(input) : typeof input === 'string' ? input.trim() : '';
  if (text.length > MAX_TEXT_LENGTH) return { ok: false, refusal: classifyOversized(text, scale) };
  let value: bigint;
  try {
    value = parseScaled(input, scale);
  } catch (error) {
    if (!(error instanceof DecimalParseError)) throw error;
    switch (error.problem) {
      case 'not_a_number':
      case 'exponent':
        return { ok: false, refusal: 'not_a_number' };
      case 'too_large':
        return { ok: false, refusal: classifyOversized(text, scale) };
      case 'too_precise':
        return { ok: false, refusal: 'too_many_places' };
      case 'inexact':
        return { ok: false, refusal: 'too_many_digits' };
    }
  }
  return value > 0n ? { ok: true, value } : { ok: false, refusal: 'not_positive' };
}

/** A too-long text: refused for the same reason a short one would be, as far as it can tell. */
function classifyOversized(text: string, scale: number): DecimalRefusal {
  if (!PLAIN_DECIMAL.test(text)) return 'not_a_number';
  if (fractionDigits(text) > scale) return 'too_many_places';
  return text.startsWith('-') ? 'not_positive' : 'too_large';
}

/** Fractional digits of a plain decimal, not counting trailing zeros (a loop: no regex backtracking). */
function fractionDigits(text: string): number {
  const dot = text.indexOf('.');
  if (dot < 0) return 0;
  let end = text.length;
  while (end > dot + 1 && text[end - 1] === '0') end--;
  return end - dot - 1;
}

/** Parses a client amount (JSON number or decimal string) of `currency` into minor units. */
export function parseAmount(input: unknown, currency: CurrencyInfo, field = 'amount'): bigint {
  const reading = readPositiveDecimal(input, currency.decimals);
  if (reading.ok && reading.value <= currency.maxAmount) return reading.value;
  const refusal = reading.ok ? 'too_large' : reading.refusal;
  throw new AmountError(field, amountMessage(refusal, field, currency));
}

function amountMessage(refusal: DecimalRefusal, field: string, currency: CurrencyInfo): string {
  switch (refusal) {
    case 'required':
      return `${field} is required`;
    case 'not_a_number':
      return `${field} must be a number such as 10.50`;
    case 'not_positive':
      // For `amount` this reads "amount must be greater than zero", which the API documents.
      return `${field} must be greater than zero`;
    case 'too_many_places':
      return `${field} has more than ${currency.decimals} decimal places for ${currency.code}`;
    case 'too_many_digits':
      return `${field} has too many digits to be exact as a number: send it as a string`;
    case 'too_large':
      return `${field} must be at most ${formatForMessage(currency.maxAmount, currency)}`;
  }
}

/**
 * The JSON number for an amount (100050n at 2 decimals is 1000.5). Number() is used only here, on
 * the exact decimal string: a decimal of at most 15 significant digits converts to the double
 * whose shortest form is that same decimal, so nothing is rounded. Every amount we hold fits
 * (maxAmount keeps them to 12 digits); the guard makes a violation loud instead of silent.
 */
export function toMajor(minor: bigint, decimals: number): number {
  const text = formatScaled(minor, decimals);
  if (significantDigits(text) > MAX_EXACT_DIGITS) {
    throw new Error(`${text} has more than ${MAX_EXACT_DIGITS} significant digits: not exact as a JSON number`);
  }
  return Number(text);
}

function significantDigits(text: string): number {
  const digits = text.replace('-', '').replace('.', '');
  let start = 0;
  let end = digits.length;
  while (start < end && digits[start] === '0') start++;
  while (end > start && digits[end - 1] === '0') end--;
  return end - start;
}

/** The amount as a decimal string with all of the currency's places: "1000.50". */
export function toDecimalString(minor: bigint, decimals: number): string {
  return formatScaled(minor, decimals);
}

/** The amount and its currency for a message: "30.00 USD". */
export function formatForMessage(minor: bigint, currency: CurrencyInfo): string {
  return `${formatScaled(minor, currency.decimals)} ${currency.code}`;
}

/** A scaled value without trailing fractional zeros, for rates: 20000n at 6 is "0.02", 10^6 is "1". */
export function formatTrimmed(value: bigint, scale: number): string {
  const text = formatScaled(value, scale);
  return scale > 0 ? text.replace(/\.?0+$/, '') : text;
}
