// What CommitQueue (src/core/database/commit-queue.ts) takes from TypeORM, pinned against real
// PostgreSQL: the data source's subscribers hear a transaction's commit; beforeTransactionCommit
// runs inside the transaction (its writes commit with it, its failure rolls it back);
// afterTransactionCommit runs after COMMIT; a nested transaction (savepoint) does not flush; a
// rollback drops what was added. If a TypeORM upgrade changes any of it, this fails, and with it
// every event the outbox would have written.
import type { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitQueue } from '../../src/core/database/commit-queue.js';
import { withDb } from '../helpers/db.js';
import { createTestContext } from '../helpers/nest.js';

let app: INestApplicationContext;
let db: DataSource;
const TABLE = `commit_queue_probe_${process.pid}`;

interface Flushed {
  items: string[];
  txid: string;
}

const txidOf = async (tx: EntityManager): Promise<string> => {
  const rows: { txid: string }[] = await tx.query('SELECT txid_current()::text AS txid');
  return rows[0].txid;
};

const committedRows = () =>
  withDb(async (client) => (await client.query<{ item: string }>(`SELECT item FROM ${TABLE} ORDER BY item`)).rows);

beforeAll(async () => {
  app = await createTestContext();
  db = app.get<DataSource>(getDataSourceToken());
  await db.query(`CREATE TABLE ${TABLE} (item text NOT NULL)`);
});

afterAll(async () => {
  await db?.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await app?.close();
});

/** A queue whose flush writes the items and reports the transaction it ran in. */
function probe(failFlush = false) {
  const flushes: Flushed[] = [];
  const committed: { result: Flushed; visible: { item: string }[] }[] = [];
  const waits: Promise<void>[] = [];
  const queue = new CommitQueue<string, Flushed>(db, {
    async flush(tx, items) {
      if (failFlush) throw new Error('flush failed');
      for (const item of items) await tx.query(`INSERT INTO ${TABLE} (item) VALUES ($1)`, [item]);
      const flushed = { items, txid: await txidOf(tx) };
      flushes.push(flushed);
      return flushed;
    },
    committed(result) {
      // Read from another connection: after COMMIT, the flushed rows are there.
      waits.push(committedRows().then((visible) => void committed.push({ result, visible })));
    },
  });
  const settled = () => Promise.all(waits);
  const detach = () => db.subscribers.splice(db.subscribers.indexOf(queue), 1);
  return { queue, flushes, committed, settled, detach };
}

describe('CommitQueue on TypeORM', () => {
  it('flushes inside the transaction, once, just before its COMMIT, and reports after it', async () => {
    const p = probe();
    try {
      const txid = await db.transaction(async (tx) => {
        expect(p.queue.add(tx, 'a')).toBe(true);
        expect(p.queue.add(tx, 'b')).toBe(true);
        expect(p.flushes).toEqual([]); // nothing before the commit
        return txidOf(tx);
      });
      await p.settled();
      expect(p.flushes).toEqual([{ items: ['a', 'b'], txid }]);
      expect(p.committed).toHaveLength(1);
      expect(p.committed[0].visible.map((r) => r.item)).toEqual(expect.arrayContaining(['a', 'b']));
    } finally {
      p.detach();
      await db.query(`DELETE FROM ${TABLE}`);
    }
  });

  it('refuses an item outside a transaction', () => {
    const p = probe();
    try {
      expect(p.queue.add(db.manager, 'x')).toBe(false);
    } finally {
      p.detach();
    }
  });

  it('does not flush at the commit of a nested transaction (a savepoint), only at the outermost', async () => {
    const p = probe();
    try {
      await db.transaction(async (tx) => {
        await tx.transaction((inner) => {
          p.queue.add(inner, 'nested');
          return Promise.resolve();
        });
        expect(p.flushes).toEqual([]); // RELEASE SAVEPOINT is no commit
        p.queue.add(tx, 'outer');
      });
      await p.settled();
      expect(p.flushes.map((f) => f.items)).toEqual([['nested', 'outer']]);
    } finally {
      p.detach();
      await db.query(`DELETE FROM ${TABLE}`);
    }
  });

  it('drops what a rolled-back transaction added, and the next transaction on the pool starts empty', async () => {
    const p = probe();
    try {
      await expect(
        db.transaction((tx) => {
          p.queue.add(tx, 'doomed');
          return Promise.reject(new Error('the change failed'));
        }),
      ).rejects.toThrow('the change failed');
      await db.transaction((tx) => {
        p.queue.add(tx, 'next');
        return Promise.resolve();
      });
      await p.settled();
      expect(p.flushes.map((f) => f.items)).toEqual([['next']]);
      expect((await committedRows()).map((r) => r.item)).toEqual(['next']);
    } finally {
      p.detach();
      await db.query(`DELETE FROM ${TABLE}`);
    }
  });

  it('rolls the transaction back when flush fails', async () => {
    const p = probe(true);
    try {
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${TABLE} (item) VALUES ('with the change')`);
          p.queue.add(tx, 'x');
        }),
      ).rejects.toThrow('flush failed');
      await p.settled();
      expect(p.committed).toEqual([]);
      expect(await committedRows()).toEqual([]);
    } finally {
      p.detach();
    }
  });
});
