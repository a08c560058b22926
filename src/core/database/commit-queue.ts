// Work that belongs to a transaction but runs at its end. Items added while a transaction runs are
// handed to `flush` inside that transaction, just before its outermost COMMIT (so what flush writes
// commits with it, or not at all), and flush's result to `committed` right after the COMMIT; a
// rollback drops them. RealtimePublisher writes its events to the outbox this way.
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

export interface CommitHooks<T, W> {
  /** Inside the transaction, just before its outermost COMMIT, with what was added to it. */
  flush(tx: EntityManager, items: T[]): Promise<W>;
  /** After the COMMIT, with what flush returned. Must not throw (the commit has happened). */
  committed(result: W): void;
}

type Slot<T, W> = { items?: T[]; flushed?: { result: W } };

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
    slot.flushed = { result: await this.hooks.flush(event.queryRunner.manager, items) };
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const slot = this.slotOf(event.queryRunner);
    const flushed = slot.flushed;
    if (!flushed) return;
    slot.flushed = undefined;
    this.hooks.committed(flushed.result);
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
