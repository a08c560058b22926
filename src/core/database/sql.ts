// Raw SQL with one result shape. TypeORM's plain query() returns the rows of a SELECT but
// [rows, count] for UPDATE/DELETE ... RETURNING, an easy source of bugs; this always returns both.
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';

export interface SqlResult<T> {
  rows: T[];
  /** Rows affected (UPDATE/DELETE/INSERT) or returned (SELECT). */
  count: number;
}

export async function sql<T = Record<string, unknown>>(
  on: DataSource | EntityManager,
  text: string,
  params: unknown[] = [],
): Promise<SqlResult<T>> {
  const existing: QueryRunner | undefined = on instanceof DataSource ? undefined : on.queryRunner;
  const runner = existing ?? (on instanceof DataSource ? on : on.connection).createQueryRunner();
  try {
    const result = await runner.query(text, params, true);
    const rows = (result.records ?? []) as T[];
    return { rows, count: result.affected ?? rows.length };
  } finally {
    if (!existing) await runner.release();
  }
}
