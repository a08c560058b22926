// The transaction runner (src/core/database/transactions.ts) against real PostgreSQL: BEGIN is
// held back and sent with the first statement, which must still run inside the transaction (its
// write rolls back with it), at the isolation level asked for; a deadlock is retried; a COMMIT that
// PostgreSQL turned into a ROLLBACK is an error. Statements sent without being awaited go out before
// the COMMIT, and any of them failing fails it; BEGIN leaves in one write with the first statement,
// and a statement sent with the next (sendWithNext) with that one. A transaction may ask for
// generic plans, for itself alone.
import type { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, sendWithNext } from '../../src/core/database/sql.js';
import { RolledBackAtCommit, sqlStateOf, Transactions } from '../../src/core/database/transactions.js';
import { withDb } from '../helpers/db.js';
import { createTestContext } from '../helpers/nest.js';

let app: INestApplicationContext;
let db: DataSource;
let transactions: Transactions;
const TABLE = `transactions_probe_${process.pid}`;

const rowsOf = () =>
  withDb(async (client) => (await client.query<{ item: string }>(`SELECT item FROM ${TABLE} ORDER BY item`)).rows);

/**
 * Two transactions that lock rows 'a' and 'b' in opposite orders, 100 ms apart, the second lock of
 * each taken by `lockLast`: a deadlock, retried. Resolves to the attempts both made in all.
 */
async function deadlock(
  lockLast: (tx: EntityManager, update: string, item: string) => Promise<unknown>,
): Promise<number> {
  let attempts = 0;
  const update = `UPDATE ${TABLE} SET item = item WHERE item = $1`;
  const lockBoth = (first: string, second: string) =>
    transactions.run(async (tx) => {
      attempts += 1;
      await tx.query(update, [first]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await lockLast(tx, update, second);
    });
  await Promise.all([lockBoth('a', 'b'), lockBoth('b', 'a')]);
  return attempts;
}

beforeAll(async () => {
  app = await createTestContext();
  db = app.get<DataSource>(getDataSourceToken());
  transactions = app.get(Transactions);
  await db.query(`CREATE TABLE ${TABLE} (item text PRIMARY KEY)`);
});

afterAll(async () => {
  await db?.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await app?.close();
});

describe('Transactions.run', () => {
  it('runs the first statement inside the transaction: its write rolls back with the rest', async () => {
    const failed = await transactions
      .run(async (tx) => {
        await tx.query(`INSERT INTO ${TABLE} VALUES ('first')`);
        await tx.query(`INSERT INTO ${TABLE} VALUES ('second')`);
        throw new Error('give up');
      })
      .catch((error: unknown) => error);
    expect(failed).toEqual(new Error('give up'));
    expect(await rowsOf()).toEqual([]);
  });

  it('commits what it wrote, and a transaction that sent no statement', async () => {
    await transactions.run(async (tx) => {
      await tx.query(`INSERT INTO ${TABLE} VALUES ('kept')`);
    });
    await expect(transactions.run(() => Promise.resolve(7))).resolves.toBe(7);
    expect(await rowsOf()).toEqual([{ item: 'kept' }]);
  });

  it('sees one snapshot from its first statement on, at the isolation level asked for', async () => {
    const seen = await transactions.run(
      async (tx) => {
        const [level] = await tx.query<{ transaction_isolation: string }[]>('SHOW transaction_isolation');
        const [first] = await tx.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${TABLE}`);
        await withDb((client) => client.query(`INSERT INTO ${TABLE} VALUES ('meanwhile')`));
        const [second] = await tx.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${TABLE}`);
        const [block] = await tx.query<{ autocommit: boolean }[]>('SELECT now() = statement_timestamp() AS autocommit');
        return { level: level.transaction_isolation, counts: [first.n, second.n], autocommit: block.autocommit };
      },
      { isolation: 'REPEATABLE READ' },
    );
    expect(seen).toEqual({ level: 'repeatable read', counts: [1, 1], autocommit: false });
    await db.query(`DELETE FROM ${TABLE} WHERE item = 'meanwhile'`);
  });

  it('plans prepared statements generically only in a transaction that asks, and only for it', async () => {
    const mode = (tx: EntityManager) =>
      tx.query<{ plan_cache_mode: string }[]>('SHOW plan_cache_mode').then(([row]) => row.plan_cache_mode);
    // Sent in BEGIN's message, before the isolation level is set, which must still take.
    const inside = await transactions.run(
      async (tx) => ({
        seen: await mode(tx),
        level: await tx
          .query<{ transaction_isolation: string }[]>('SHOW transaction_isolation')
          .then(([row]) => row.transaction_isolation),
      }),
      { genericPlans: true, isolation: 'REPEATABLE READ' },
    );
    expect(inside).toEqual({ seen: 'force_generic_plan', level: 'repeatable read' });
    // SET LOCAL: the pooled connections are back to PostgreSQL's own choice after it.
    const after = await Promise.all(Array.from({ length: 12 }, () => transactions.run(mode)));
    expect(new Set(after)).toEqual(new Set(['auto']));
  });

  it('retries a transaction that deadlocked, and both end committed', async () => {
    await db.query(`INSERT INTO ${TABLE} VALUES ('a'), ('b')`);
    const attempts = await deadlock((tx, update, item) => tx.query(update, [item]));
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(await rowsOf()).toEqual([{ item: 'a' }, { item: 'b' }, { item: 'kept' }]);
  });

  it('does not report a commit that PostgreSQL turned into a rollback (a failed statement was caught)', async () => {
    const outcome = await transactions
      .run(async (tx) => {
        await tx.query(`INSERT INTO ${TABLE} VALUES ('lost')`);
        await tx.query('SELECT 1 / 0').catch(() => undefined);
        return 'reported';
      })
      .catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(RolledBackAtCommit);
    expect((await rowsOf()).map((row) => row.item)).not.toContain('lost');
  });
});

describe('statements sent without waiting (sql.ts send())', () => {
  it('go out before the COMMIT, which commits them, and are answered before it', async () => {
    const answers: unknown[] = [];
    const unanswered = await transactions.run(async (tx) => {
      await tx.query(`SELECT 1`); // BEGIN is out
      void send(tx, `INSERT INTO ${TABLE} VALUES ('sent-1')`).then(({ count }) => answers.push(`sent-1: ${count}`));
      void send(tx, `INSERT INTO ${TABLE} VALUES ('sent-2')`).then(({ count }) => answers.push(`sent-2: ${count}`));
      return answers.length; // nothing awaited
    });
    expect(unanswered).toBe(0);
    expect(answers).toEqual(['sent-1: 1', 'sent-2: 1']);
    expect((await rowsOf()).map((row) => row.item)).toEqual(expect.arrayContaining(['sent-1', 'sent-2']));
    await db.query(`DELETE FROM ${TABLE} WHERE item LIKE 'sent-%'`);
  });

  it('fail the COMMIT when one fails in PostgreSQL: nothing of the transaction is kept, the failure is the cause', async () => {
    const outcome = await transactions
      .run(async (tx) => {
        void send(tx, `INSERT INTO ${TABLE} VALUES ('before')`);
        void send(tx, `INSERT INTO ${TABLE} VALUES ('kept')`); // a duplicate of a committed row
        void send(tx, `INSERT INTO ${TABLE} VALUES ('after')`);
        return Promise.resolve('reported');
      })
      .catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(RolledBackAtCommit);
    expect(sqlStateOf((outcome as RolledBackAtCommit).cause)).toBe('23505');
    expect((await rowsOf()).map((row) => row.item)).toEqual(['a', 'b', 'kept']);
  });

  it('say why a statement awaited after one of them failed was refused: that failure is the cause', async () => {
    const outcome = await transactions
      .run(async (tx) => {
        void send(tx, `INSERT INTO ${TABLE} VALUES ('kept')`); // a duplicate of a committed row
        await tx.query(`INSERT INTO ${TABLE} VALUES ('later')`); // refused: the transaction is aborted
      })
      .catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(RolledBackAtCommit);
    expect(sqlStateOf((outcome as RolledBackAtCommit).cause)).toBe('23505');
    expect((await rowsOf()).map((row) => row.item)).not.toContain('later');
  });

  it('fail the COMMIT when pg could not even send one (a value it cannot encode)', async () => {
    const unencodable = {
      toPostgres: () => {
        throw new Error('cannot encode');
      },
    };
    const outcome = await transactions
      .run(async (tx) => {
        void send(tx, `INSERT INTO ${TABLE} VALUES ('encoded')`);
        void send(tx, `INSERT INTO ${TABLE} VALUES ($1)`, [unencodable]);
        return Promise.resolve('reported');
      })
      .catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(RolledBackAtCommit);
    expect((outcome as RolledBackAtCommit).cause).toMatchObject({ message: 'cannot encode' });
    expect((await rowsOf()).map((row) => row.item)).not.toContain('encoded');
  });

  it('leave in as few writes as the rules allow: BEGIN with the first, a statement sent with the next with it', async () => {
    // pg writes each statement on its own. Counted where the socket writes (net.Socket's _write and
    // _writev: one call per write, however many messages it carries), on the transaction's client.
    type Stream = Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
    let writes = 0;
    let stream: Stream | undefined;
    await transactions.run(async (tx) => {
      stream = (tx.queryRunner as unknown as { databaseConnection: { connection: { stream: Stream } } })
        .databaseConnection.connection.stream;
      for (const method of ['_write', '_writev'] as const) {
        const original = stream[method];
        stream[method] = function (this: unknown, ...args: unknown[]) {
          writes += 1;
          return original.apply(this, args);
        };
      }
      await tx.query(`INSERT INTO ${TABLE} VALUES ('write-1')`);
      expect(writes).toBe(1); // BEGIN and write-1
      void sendWithNext(tx, `INSERT INTO ${TABLE} VALUES ('write-2')`);
      expect(writes).toBe(1);
      void send(tx, `INSERT INTO ${TABLE} VALUES ('write-3')`);
      expect(writes).toBe(2); // write-2 and write-3
    });
    for (const method of ['_write', '_writev'] as const) delete stream![method];
    expect(writes).toBe(3); // and the COMMIT
    expect((await rowsOf()).map((row) => row.item)).toEqual(expect.arrayContaining(['write-1', 'write-2', 'write-3']));
    await db.query(`DELETE FROM ${TABLE} WHERE item LIKE 'write-%'`);
  });

  it('retry the transaction when the one that failed was a deadlock', async () => {
    const attempts = await deadlock((tx, update, item) => {
      void send(tx, update, [item]);
      return Promise.resolve();
    });
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(await rowsOf()).toEqual([{ item: 'a' }, { item: 'b' }, { item: 'kept' }]);
  });
});
