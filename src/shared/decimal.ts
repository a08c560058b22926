// Exact decimal <-> scaled integer conversion. No float arithmetic: a JSON number is read through
// its shortest round-trip string (what the client wrote), a string through a strict pattern.

/** too_precise: more decimal places than the scale; inexact: a JSON number with too many digits. */
export type DecimalProblem = 'not_a_number' | 'exponent' | 'too_precise' | 'inexact' | 'too_large';

export class DecimalParseError extends Error {
  constructor(
    readonly problem: DecimalProblem,
    message: string,
  ) {
    super(message);
    this.name = 'DecimalParseError';
  }
}

const DECIMAL_PATTERN = /^(-)?(\d+)(?:\.(\d+))?$/;
// Unambiguous (each digit can belong to one part only), so it runs in linear time on any input.
const EXPONENT_PATTERN = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)e[+-]?\d+$/i;
/** Most digits accepted before scaling; keeps hostile inputs from allocating huge bigints. */
const MAX_DIGITS = 40;
/** A JSON number with more significant digits than this may not be what the client wrote. */
const MAX_NUMBER_SIGNIFICANT_DIGITS = 15;

/**
 * Converts a decimal given as a JSON number or a string into an integer scaled by 10^scale.
 * Refuses NaN, infinities, exponents, signs other than a leading '-', more fractional digits than
 * `scale`, JSON numbers too long to be exact (more than 15 significant digits: send a string),
 * and anything that is not a plain decimal. Trailing zeros beyond the scale are accepted ("1.500"
 * with scale 2 is 150).
 */
export function parseScaled(input: unknown, scale: number): bigint {
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new DecimalParseError('not_a_number', 'must be a finite number');
    text = expandSmallNumber(String(input));
  } else if (typeof input === 'string') {
    text = input.trim();
  } else {
    throw new DecimalParseError('not_a_number', 'must be a number or a decimal string');
  }
  const match = DECIMAL_PATTERN.exec(text);
  if (!match) {
    if (EXPONENT_PATTERN.test(text)) throw new DecimalParseError('exponent', 'must be written without an exponent');
    throw new DecimalParseError('not_a_number', 'must be a decimal number such as 10.50');
  }
  const [, sign, whole, rawFraction = ''] = match;
  if (whole.length + rawFraction.length > MAX_DIGITS) throw new DecimalParseError('too_large', 'has too many digits');
  const fraction = rawFraction.replace(/0+$/, '');
  if (fraction.length > scale) {
    throw new DecimalParseError('too_precise', `must have at most ${scale} decimal places`);
  }
  if (typeof input === 'number' && (whole + rawFraction).replace(/^0+/, '').length > MAX_NUMBER_SIGNIFICANT_DIGITS) {
    throw new DecimalParseError('inexact', 'has too many digits to be exact as a JSON number: send it as a string');
  }
  const scaled = BigInt(whole + fraction.padEnd(scale, '0'));
  return sign ? -scaled : scaled;
}

/**
 * JavaScript writes numbers below 1e-6 with an exponent ("1e-8" for 0.00000001, a normal BTC
 * amount). Expand that shortest form digit by digit, so it reads as what the client wrote.
 */
function expandSmallNumber(text: string): string {
  const match = /^(-?)(\d)(?:\.(\d+))?e-(\d+)$/.exec(text);
  if (!match) return text;
  const [, sign, lead, rest = '', exponent] = match;
  return `${sign}0.${'0'.repeat(Number(exponent) - 1)}${lead}${rest}`;
}

/** Renders a scaled integer as a plain decimal string with exactly `scale` fractional digits. */
export function formatScaled(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`;
}
