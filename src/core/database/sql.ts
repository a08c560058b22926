// Raw SQL with one result shape. TypeORM's plain query() returns the rows of a SELECT but
// [rows, count] for UPDATE/DELETE ... RETURNING, an easy source of bugs; this always returns both.
//
// A hot statement of constant text can be `prepared()`: PostgreSQL then parses it once per
// connection (a named prepared statement) instead of at every call, and plans it once too where it
// chooses a generic plan, or in a transaction that makes it (Transactions.run's `genericPlans`, the
// posting queue's); the ledger's write plans in ~0.4 ms, more than it takes to run at light load.
// TypeORM hands its query straight to pg's `client.query(query, values)`, which takes a query
// config `{name, text}` as well as a string; test/integration/sql-prepared.test.ts pins that it
// arrives as a named statement.
//
// send() puts a statement of a transaction on the wire at once and does not wait for its answer,
// so several go out pipelined (pg's `pipeline` mode, data-source.ts) with the COMMIT behind them:
// one round trip for all. It hands the statement straight to the transaction's pg client
// (TypeORM's query() awaits twice before it does, so statements sent through it could reach the
// wire after a later one). A statement sent this way that fails makes the COMMIT fail: PostgreSQL
// aborts the transaction, and the transaction runner (transactions.ts) refuses to commit after a
// failure pg reported without sending (a value it could not encode).
import { DataSource, QueryFailedError, type EntityManager, type QueryRunner } from 'typeorm';
import { holdForNext } from './transactions.js';

export interface SqlResult<T> {
  rows: T[];
  /** Rows affected (UPDATE/DELETE/INSERT) or returned (SELECT). */
  count: number;
}

/** A statement prepared once per connection: constant text, a name unique to that text. */
export interface Prepared {
  readonly name: string;
  readonly text: string;
  /** The text, wherever TypeORM logs or reports the query. */
  toString(): string;
}

const names = new Map<string, string>();

/**
 * A named statement for `text`, which must be constant (a text built per call would prepare a new
 * statement on every connection each time). Each name stands for one text, for the process.
 */
export function prepared(name: string, text: string): Prepared {
  const known = names.get(name);
  if (known !== undefined && known !== text) throw new Error(`prepared statement ${name} has two texts`);
  names.set(name, text);
  return { name, text, toString: () => text };
}

export async function sql<T = Record<string, unknown>>(
  on: DataSource | EntityManager,
  statement: string | Prepared,
  params: unknown[] = [],
): Promise<SqlResult<T>> {
  const existing: QueryRunner | undefined = on instanceof DataSource ? undefined : on.queryRunner;
  const runner = existing ?? (on instanceof DataSource ? on : on.connection).createQueryRunner();
  try {
    // A Prepared reaches pg as its query config (see the top of this file).
    const result = await runner.query(statement as string, params, true);
    const rows = (result.records ?? []) as T[];
    return { rows, count: result.affected ?? rows.length };
  } finally {
    if (!existing) await runner.release();
  }
}

/** What send() uses of TypeORM's PostgresQueryRunner: the pg client it leased. */
interface PgRunner {
  databaseConnection?: {
    query(config: unknown, values: unknown[]): Promise<{ rows?: unknown[]; rowCount?: number | null }>;
  };
}

/**
 * Sends `statement` in the transaction of `tx` now (see the top of this file) and resolves to its
 * answer. Nothing need await it: its failure is also the transaction's.
 */
export function send<T = Record<string, unknown>>(
  tx: EntityManager,
  statement: string | Prepared,
  params: unknown[] = [],
): Promise<SqlResult<T>> {
  const runner = tx.queryRunner;
  const client = runner?.isTransactionActive ? (runner as unknown as PgRunner).databaseConnection : undefined;
  if (!client) throw new Error('send() needs a transaction that has its connection');
  const answer = client.query(statement, params).then(
    (result) => {
      const rows = (result.rows ?? []) as T[];
      return { rows, count: result.rowCount ?? rows.length };
    },
    (error: unknown) => {
      throw new QueryFailedError(String(statement), params, error as Error);
    },
  );
  answer.catch(() => undefined);
  return answer;
}

/**
 * send() for a statement that the transaction's next one follows at once (the outbox's, before the
 * COMMIT): the two leave in one write (transactions.ts).
 */
export function sendWithNext<T = Record<string, unknown>>(
  tx: EntityManager,
  statement: string | Prepared,
  params: unknown[] = [],
): Promise<SqlResult<T>> {
  const held = holdForNext(tx);
  try {
    return send<T>(tx, statement, params);
  } finally {
    held?.sent();
  }
}
