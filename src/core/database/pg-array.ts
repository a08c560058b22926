// PostgreSQL array literals for query parameters (`$1::bigint[]`, `unnest($2::text[])`). pg builds
// them itself from JS arrays, but quotes every element and runs two regular expressions over it;
// the posting statement sends 23 arrays, ~1,500 elements for a batch of 64 transfers, and that
// was ~2.5 % of the service's CPU in bench/ledger. Here numbers go as they are, and a string is
// quoted only when the array syntax needs it. pg-array.spec.ts pins that pg reads it as it reads its
// own encoding; test/integration/pg-array.test.ts, that PostgreSQL does.

/** An element that needs no quotes: not empty, no delimiter, quote, backslash, brace or space. */
const BARE = /^[^\s{}",\\]+$/;
const NULL_WORD = /^null$/i;
const ESCAPED = /["\\]/g;

export type PgArrayElement = string | number | bigint | boolean | null | undefined;

/** The literal of a one-dimensional array; null and undefined become NULL. */
export function pgArray(values: readonly PgArrayElement[]): string {
  let literal = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) literal += ',';
    literal += element(values[i]);
  }
  return `${literal}}`;
}

function element(value: PgArrayElement): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value !== 'string') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`${value} has no array literal`);
    return String(value);
  }
  if (BARE.test(value) && !NULL_WORD.test(value)) return value;
  return `"${value.replace(ESCAPED, '\\$&')}"`;
}
