// Work that belongs to a transaction but runs at its end. Items added while a transaction runs are
// handed to `flush` inside that transaction, just before its outermost COMMIT (so what flush writes
// commits with it, or not at all), and flush's result to `committed` right after the COMMIT; a
// rollback drops them. RealtimePublisher writes its events to the outbox this way.
//
// A queue may instead `send` its items: it puts its statement on the wire (sql.ts send()) and
// returns without waiting for the answer, so the COMMIT goes out right behind it, pipelined, and
// the transaction costs one round trip less. Its answer has come when the COMMIT's has (answers
// come in order); had it failed, the COMMIT would have failed with it (transactions.ts).
//
// TypeORM has no public "before commit" callback for a transaction, so this leans on what its
// subscribers see (typeorm 1.1, PostgresQueryRunner): transaction events reach every subscriber in
// the data source's `subscribers` array; `beforeTransactionCommit` runs inside the transaction,
// before COMMIT or RELEASE SAVEPOINT, and an error there rolls it back; `afterTransactionCommit`
// runs after it; `queryRunner.data` belongs to one connection's transaction; `transactionDepth`
// counts the open transaction and its savepoints (1 before the outermost COMMIT, 0 after the
// outermost ROLLBACK). This file is the only one that knows; test/integration/commit-queue.test.ts
// fails at once if any of it changes.
import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';

export type CommitHooks<T, W> = (
  | {
      /** Inside the transaction, just before its outermost COMMIT, with what was added to it. */
      flush(tx: EntityManager, items: T[]): Promise<W>;
    }
  | {
      /**
       * flush() pipelined with the COMMIT: has sent its statements when it returns (throws if it
       * cannot), resolves to their outcome.
       */
      send(tx: EntityManager, items: T[]): Promise<W>;
      /** The sent statements committed but their answer could not be read (nothing to undo). */
      unread(error: unknown): void;
    }
) & {
  /** After the COMMIT, with what flush returned. Must not throw (the commit has happened). */
  committed(result: W): void;
};

type Slot<T, W> = { items?: T[]; flushed?: Promise<W> };

export class CommitQueue<T, W> implements EntitySubscriberInterface {
  /** Where this queue keeps its items on a query runner (its `data` is free for such use). */
  private readonly key = Symbol('commit-queue');

  constructor(
    db: DataSource,
    private readonly hooks: CommitHooks<T, W>,
  ) {
    db.subscribers.push(this);
  }

  /** Adds `item` to the transaction of `manager`; false when `manager` is in no transaction. */
  add(manager: EntityManager, item: T): boolean {
    const runner = manager.queryRunner;
    if (!runner?.isTransactionActive) return false;
    (this.slotOf(runner).items ??= []).push(item);
    return true;
  }

  async beforeTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const slot = this.slotOf(event.queryRunner);
    const items = slot.items;
    if (!items?.length || !this.isOutermost(event.queryRunner)) return;
    slot.items = undefined;
    const { hooks } = this;
    if ('flush' in hooks) {
      const result = await hooks.flush(event.queryRunner.manager, items);
      slot.flushed = Promise.resolve(result);
    } else {
      slot.flushed = hooks.send(event.queryRunner.manager, items);
      // Its failure is the COMMIT's; the rollback then drops it unread.
      slot.flushed.catch(() => undefined);
    }
  }

  async afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const slot = this.slotOf(event.queryRunner);
    const flushed = slot.flushed;
    if (!flushed) return;
    slot.flushed = undefined;
    let result: W;
    try {
      result = await flushed;
    } catch (error) {
      if ('unread' in this.hooks) this.hooks.unread(error);
      return;
    }
    this.hooks.committed(result);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (!this.isOutermost(event.queryRunner, true)) return;
    const slot = this.slotOf(event.queryRunner);
    slot.items = undefined;
    slot.flushed = undefined;
  }

  private slotOf(runner: QueryRunner): Slot<T, W> {
    const data = runner.data as Record<symbol, Slot<T, W> | undefined>;
    return (data[this.key] ??= {});
  }

  /** Only the outermost commit flushes; nested transactions (savepoints) are counted by TypeORM. */
  private isOutermost(runner: QueryRunner, afterDecrement = false): boolean {
    const depth = (runner as QueryRunner & { transactionDepth?: number }).transactionDepth ?? 1;
    return afterDecrement ? depth === 0 : depth <= 1;
  }
}
