// What sql() relies on to prepare a hot statement once per connection (src/core/database/sql.ts),
// pinned against real PostgreSQL through the service's TypeORM data source: a prepared() statement
// reaches pg as a named statement (it is then listed in pg_prepared_statements of the connection),
// answers like the same text unprepared, and fails as a QueryFailedError with its SQLSTATE (the
// transaction runner retries by it).
import type { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { QueryFailedError, type DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlStateOf } from '../../src/core/database/transactions.js';
import { prepared, sql } from '../../src/core/database/sql.js';
import { createTestContext } from '../helpers/nest.js';

let app: INestApplicationContext;
let db: DataSource;

beforeAll(async () => {
  app = await createTestContext();
  db = app.get<DataSource>(getDataSourceToken());
});

afterAll(async () => {
  await app?.close();
});

describe('sql() with a prepared statement', () => {
  it('runs it as a named statement of the connection, with the same answers as the text', async () => {
    const sum = prepared('probe_sum', 'SELECT $1::int + $2::int AS n');
    const { answers, listed } = await db.transaction(async (tx) => {
      const first = await sql<{ n: number }>(tx, sum, [40, 2]);
      const second = await sql<{ n: number }>(tx, sum, [1, 2]);
      const unprepared = await sql<{ n: number }>(tx, sum.text, [1, 2]);
      const statements = await sql<{ name: string; statement: string }>(
        tx,
        `SELECT name, statement FROM pg_prepared_statements WHERE name = $1`,
        ['probe_sum'],
      );
      return { answers: [first.rows, second.rows, unprepared.rows], listed: statements.rows };
    });
    expect(answers).toEqual([[{ n: 42 }], [{ n: 3 }], [{ n: 3 }]]);
    expect(listed).toEqual([{ name: 'probe_sum', statement: sum.text }]);
  });

  it('fails as a QueryFailedError with the SQLSTATE, and the connection goes on', async () => {
    const divide = prepared('probe_divide', 'SELECT 1 / $1::int AS n');
    const failure = await sql(db, divide, [0]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(QueryFailedError);
    expect(sqlStateOf(failure)).toBe('22012');
    expect((await sql<{ n: number }>(db, divide, [1])).rows).toEqual([{ n: 1 }]);
  });

  it('refuses one name for two texts', () => {
    prepared('probe_twice', 'SELECT 1');
    expect(() => prepared('probe_twice', 'SELECT 2')).toThrow(/two texts/);
  });
});
