import { describe, expect, it } from 'vitest';
import { pgArray } from '../../src/core/database/pg-array.js';
import { AWKWARD_ELEMENTS } from '../fixtures/pg-array-elements.js';
import { withDb } from '../helpers/db.js';

// What PostgreSQL makes of the literals: every element comes back exactly as it was sent.
describe('pgArray', () => {
  const awkward = AWKWARD_ELEMENTS;

  it('round-trips awkward text elements and NULL through text[]', async () => {
    const values = [...awkward, null, undefined];
    const back = await withDb(async (db) => {
      const { rows } = await db.query<{ v: string | null }>(`SELECT unnest($1::text[]) AS v`, [pgArray(values)]);
      return rows.map((r) => r.v);
    });
    expect(back).toEqual([...awkward, null, null]);
  });

  it('round-trips integers, bigints beyond 2^53 and digit strings through bigint[]', async () => {
    const values = [0, -7, 42, 9007199254740993n, '-9223372036854775808', '9223372036854775807', null];
    const back = await withDb(async (db) => {
      const { rows } = await db.query<{ v: string | null }>(`SELECT unnest($1::bigint[])::text AS v`, [
        pgArray(values),
      ]);
      return rows.map((r) => r.v);
    });
    expect(back).toEqual(['0', '-7', '42', '9007199254740993', '-9223372036854775808', '9223372036854775807', null]);
  });

  it('round-trips JSON documents through json[] text-for-text', async () => {
    const docs = [awkward.at(-1)!, '{"a":"b\\\\c"}', '[]', '"x"'];
    const back = await withDb(async (db) => {
      const { rows } = await db.query<{ v: string }>(`SELECT unnest($1::json[])::text AS v`, [pgArray(docs)]);
      return rows.map((r) => r.v);
    });
    expect(back).toEqual(docs);
  });

  it('writes an empty array and refuses numbers with no literal', () => {
    expect(pgArray([])).toBe('{}');
    expect(pgArray(['a', 1, true])).toBe('{a,1,true}');
    expect(() => pgArray([Number.NaN])).toThrow(/NaN/);
    expect(() => pgArray([Number.POSITIVE_INFINITY])).toThrow(/Infinity/);
  });
});
