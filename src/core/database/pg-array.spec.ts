// pgArray replaces pg's own encoding of array parameters (pg/lib/utils.js arrayString, pg 8.23).
// These pin, without a database, that it means what pg's encoding means: both literals read back
// (by pg's own array parser, pg-types) as the same elements, and pg hands a string parameter to
// the server unchanged. test/integration/pg-array.test.ts checks what PostgreSQL itself makes of them.
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { AWKWARD_ELEMENTS } from '../../../test/fixtures/pg-array-elements.js';
import { pgArray, type PgArrayElement } from './pg-array.js';

/** pg's encoder of query parameters (it ships no types for its internals). */
const PG_UTILS = 'pg/lib/utils.js';
let prepareValue: (value: unknown) => unknown;

beforeAll(async () => {
  ({ prepareValue } = (await import(PG_UTILS)) as { prepareValue: typeof prepareValue });
});

const TEXT_ARRAY = 1009;
const INT8_ARRAY = 1016;
const parse = (oid: number, literal: string): unknown => pg.types.getTypeParser(oid, 'text')(literal);

const AWKWARD = AWKWARD_ELEMENTS;

describe('pgArray against pg’s own array encoding', () => {
  it('is read back as pg’s encoding is, element for element, for text', () => {
    const values: PgArrayElement[] = [...AWKWARD, null, undefined];
    const ours = pgArray(values);
    const theirs = prepareValue(values);
    expect(typeof theirs).toBe('string');
    expect(parse(TEXT_ARRAY, ours)).toEqual(parse(TEXT_ARRAY, theirs as string));
    expect(parse(TEXT_ARRAY, ours)).toEqual([...AWKWARD, null, null]);
  });

  it('is read back as pg’s encoding is for bigint[], numbers, bigints and digit strings alike', () => {
    const values: PgArrayElement[] = [0, -7, 42, 9007199254740993n, '-9223372036854775808', null];
    expect(parse(INT8_ARRAY, pgArray(values))).toEqual(parse(INT8_ARRAY, prepareValue(values) as string));
  });

  it('reaches the server as written: pg passes a string parameter unchanged', () => {
    const literal = pgArray(AWKWARD);
    expect(prepareValue(literal)).toBe(literal);
    expect(prepareValue([])).toBe(pgArray([]));
  });
});
