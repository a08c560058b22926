// A check of JSON text before it is parsed, for every transport (HTTP bodies, socket.io frames,
// plain WebSocket frames). Three things JSON.parse does not refuse but this service must:
//
// - nesting deeper than a request can need: class-transformer walks a request recursively and
//   overflows the stack at ~1,300 levels (a 2.7 KB frame), so depth is refused before parsing;
// - a number whose text is not exactly the double it parses to: `0.999999999999999999999` parses
//   to 1 and `9007199254740993` to 9007199254740992. Money amounts are read exactly, so such a
//   number is refused (the client can send the value as a decimal string), never rounded;
// - a `\u0000` escape in a string: PostgreSQL's text and jsonb cannot hold the NUL character, so a
//   field carrying one (an idempotency key, a payment method, a setting) failed in the database as
//   an internal error. No field of any request may hold it.
//
// The check is one pass over the characters, allocation-free except for the rare number that
// needs the exact comparison. It assumes nothing about validity: malformed JSON is left for
// JSON.parse to refuse.

export type JsonProblem =
  | { kind: 'depth'; message: string }
  | { kind: 'number'; message: string; field?: string; text: string }
  | { kind: 'nul'; message: string; field?: string };

/** Deepest nesting of arrays and objects a request may carry. */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 34; // "
const BACKSLASH = 92; // \
const OPEN_OBJECT = 123; // {
const OPEN_ARRAY = 91; // [
const CLOSE_OBJECT = 125; // }
const CLOSE_ARRAY = 93; // ]
const COLON = 58; // :
const MINUS = 45; // -
const PLUS = 43; // +
const DOT = 46; // .
const ZERO = 48;
const NINE = 57;
const LOWER_E = 101;
const UPPER_E = 69;
const LOWER_U = 117;

const isDigit = (c: number) => c >= ZERO && c <= NINE;
const isNumberChar = (c: number) =>
  isDigit(c) || c === DOT || c === MINUS || c === PLUS || c === LOWER_E || c === UPPER_E;
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * The first problem in `text` (from `start`), or undefined when there is none. `field` of a number
 * problem is the key of the innermost object member holding it, when there is one.
 */
export function inspectJson(text: string, start = 0, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  let depth = 0;
  // The last string seen, as a possible key: [from, to) of its raw text.
  let stringFrom = -1;
  let stringTo = -1;
  let keyFrom = -1;
  let keyTo = -1;
  const length = text.length;
  for (let i = start; i < length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const from = i + 1;
      let nul = false;
      for (i = from; i < length; i += 1) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) {
          i += 1;
          if (text.charCodeAt(i) === LOWER_U && text.startsWith('0000', i + 1)) nul = true;
        } else if (d === QUOTE) break;
      }
      if (nul) {
        // A value names the member holding it; a key is refused without a field.
        let next = i + 1;
        while (next < length && isSpace(text.charCodeAt(next))) next += 1;
        const isKey = text.charCodeAt(next) === COLON;
        const field = !isKey && keyFrom >= 0 ? text.slice(keyFrom, Math.min(keyTo, keyFrom + 64)) : undefined;
        const subject = field ? `${field}: the text` : isKey ? 'a key' : 'the text';
        return { kind: 'nul', field, message: `${subject} must not contain the NUL character (\\u0000)` };
      }
      stringFrom = from;
      stringTo = i;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth += 1;
      if (depth > maxDepth) {
        return { kind: 'depth', message: `invalid request format: nested deeper than ${maxDepth} levels` };
      }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth -= 1;
    } else if (c === COLON) {
      keyFrom = stringFrom;
      keyTo = stringTo;
    } else if (isDigit(c) || c === MINUS) {
      const from = i;
      while (i + 1 < length && isNumberChar(text.charCodeAt(i + 1))) i += 1;
      if (!isExactNumber(text, from, i + 1)) {
        const numberText = text.slice(from, Math.min(i + 1, from + 40));
        const field = keyFrom >= 0 ? text.slice(keyFrom, Math.min(keyTo, keyFrom + 64)) : undefined;
        const subject = field ? `${field}: the number` : 'the number';
        return {
          kind: 'number',
          text: numberText,
          field,
          message: `${subject} ${numberText} cannot be represented exactly; send it as a decimal string`,
        };
      }
    } else if (!isSpace(c)) {
      // A literal (true, false, null) or something JSON.parse will refuse anyway.
    }
  }
  return undefined;
}

/**
 * Whether the number literal text[from, to) is exactly the double it parses to. A literal of at
 * most 15 significant digits without an exponent always is (a double holds 15 decimal digits);
 * anything else is compared digit for digit with the double's shortest representation.
 */
function isExactNumber(text: string, from: number, to: number): boolean {
  let significant = 0;
  let leading = true;
  for (let i = from; i < to; i += 1) {
    const c = text.charCodeAt(i);
    if (c === LOWER_E || c === UPPER_E) return isExactSlow(text.slice(from, to));
    if (!isDigit(c)) continue;
    if (leading && c === ZERO) continue;
    leading = false;
    significant += 1;
  }
  return significant <= 15 || isExactSlow(text.slice(from, to));
}

function isExactSlow(literal: string): boolean {
  const value = Number(literal);
  if (!Number.isFinite(value)) return false;
  const exact = canonical(literal);
  return exact !== undefined && exact === canonical(String(value));
}

/** A decimal literal as `digits e exponent` without leading or trailing zeros ("0" for zero). */
export function canonical(literal: string): string | undefined {
  const match = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!match) return undefined;
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  let digits = whole + fraction;
  let power = Number(exponent) - fraction.length;
  digits = digits.replace(/^0+/, '');
  if (digits === '') return '0';
  const trailing = /0+$/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(0, digits.length - trailing);
  power += trailing;
  return `${sign}${digits}e${power}`;
}
