import pg from 'pg';
import { inject } from 'vitest';

/** A direct connection to this run's database (or the one at `url`), for asserting rows. */
export async function withDb<T>(fn: (db: pg.Client) => Promise<T>, url: string = inject('databaseUrl')): Promise<T> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

export async function countRows(
  table: string,
  where = 'true',
  params: unknown[] = [],
  url: string = inject('databaseUrl'),
): Promise<number> {
  return withDb(async (db) => {
    const result = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, params);
    return Number(result.rows[0].n);
  }, url);
}

/** Whether a transaction holds the row of account `accountId` now (FOR UPDATE NOWAIT fails: 55P03). */
export async function accountLockedNow(accountId: string, url: string = inject('databaseUrl')): Promise<boolean> {
  return withDb(async (db) => {
    await db.query('BEGIN');
    try {
      await db.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE NOWAIT', [accountId]);
      return false;
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') return true;
      throw error;
    } finally {
      await db.query('ROLLBACK');
    }
  }, url);
}

/** Events of `channel` not yet marked emitted (still listed in an outbox_unsent row). */
export async function unsentOf(channel: string): Promise<number> {
  return countRows(
    'outbox_events o',
    `o.channel = $1 AND EXISTS (SELECT 1 FROM outbox_unsent u WHERE o.write_id = ANY(u.write_ids))`,
    [channel],
  );
}
