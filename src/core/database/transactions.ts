// The one way to run a transaction. Deadlocks and serialization failures are retried (a fresh
// transaction, after a short random pause), never shown to the caller; every other failure rolls
// back and is thrown. `work` may therefore run more than once: it must not keep state across
// attempts, and what it announces (RealtimePublisher.publish) belongs to its attempt's transaction,
// so a rolled-back attempt announces nothing.
//
// BEGIN costs no round trip of its own: it is held back and sent with the transaction's first
// statement, the two pipelined on the connection (pg's `pipeline` mode, data-source.ts), so a
// posting at light load waits for one round trip fewer. test/integration/transactions.test.ts
// pins that the first statement runs inside the transaction, at its isolation level, that a
// transaction without statements commits and one that fails rolls back, and that the retry holds.
//
// A COMMIT that PostgreSQL answers with ROLLBACK (a statement failed and its error was caught, so
// the transaction was aborted) is an error, not a success: nothing was committed.
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { QueryFailedError, type DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel.js';

/** PostgreSQL's codes for "try again": deadlock detected, serialization failure. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 6;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The SQLSTATE of a failed query, if it is one. */
export const sqlStateOf = (error: unknown): string | undefined =>
  error instanceof QueryFailedError ? (error.driverError as { code?: string }).code : undefined;

export type TransactionWork<T> = (tx: EntityManager) => Promise<T>;

@Injectable()
export class Transactions {
  private readonly logger = new Logger(Transactions.name);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Runs `work` in one transaction (READ COMMITTED, or `isolation`), retried as above. */
  async run<T>(work: TransactionWork<T>, isolation?: IsolationLevel): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.once(work, isolation);
      } catch (error) {
        const code = sqlStateOf(error);
        if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw error;
        this.logger.debug({ code, attempt }, 'transaction retried');
        await sleep(Math.random() * 10 * attempt);
      }
    }
  }

  /** One attempt, as TypeORM's EntityManager.transaction() runs it, watched (watchTransaction). */
  private async once<T>(work: TransactionWork<T>, isolation?: IsolationLevel): Promise<T> {
    const runner = this.db.createQueryRunner();
    let restore: (() => void) | undefined;
    try {
      restore = watchTransaction((await runner.connect()) as PgClient);
      await runner.startTransaction(isolation);
      const result = await work(runner.manager);
      await runner.commitTransaction();
      return result;
    } catch (error) {
      // The original error is thrown even if the rollback fails.
      await runner.rollbackTransaction().catch(() => undefined);
      // TypeORM wraps what the client threw at COMMIT in a QueryFailedError.
      if (error instanceof QueryFailedError && error.driverError instanceof RolledBackAtCommit) throw error.driverError;
      throw error;
    } finally {
      restore?.();
      await release(runner);
    }
  }
}

/** What of a pg client watchTransaction() uses: its query method (a promise without a callback). */
interface PgClient {
  query: (this: PgClient, config: unknown, values?: unknown) => Promise<unknown>;
}

const BEGIN = /^START TRANSACTION$/;
/** What pg answers BEGIN with, for TypeORM, which reads nothing of it. */
const BEGUN = Object.freeze({ command: 'BEGIN', rowCount: null, rows: [], fields: [] });

/**
 * PostgreSQL answered COMMIT with ROLLBACK: a statement of the transaction had failed and its
 * error was caught, so nothing was committed. Never retried; the caller must not be told it was.
 */
export class RolledBackAtCommit extends Error {
  constructor() {
    super('the transaction was rolled back at COMMIT: one of its statements had failed');
    this.name = 'RolledBackAtCommit';
  }
}

/**
 * Watches the transaction of `client` (the pool client leased for it). Its `START TRANSACTION` is
 * held back and sent just before the statement that follows, in the same turn (pipelined: one
 * round trip for both); that statement's answer waits for BEGIN's, so a failed BEGIN fails it. A
 * COMMIT answered with ROLLBACK is an error (RolledBackAtCommit). Returns what ends the watch.
 */
function watchTransaction(client: PgClient): () => void {
  const query = client.query;
  let held: string | undefined;
  let begun = false;
  const watching = function (this: PgClient, config: unknown, values?: unknown): Promise<unknown> {
    if (!begun && typeof config === 'string' && BEGIN.test(config)) {
      begun = true;
      held = config;
      return Promise.resolve(BEGUN);
    }
    let answered: Promise<unknown>;
    if (held === undefined) {
      answered = query.call(client, config, values);
    } else {
      const sentBegin = query.call(client, held);
      held = undefined;
      const answer = query.call(client, config, values);
      answered = Promise.all([sentBegin, answer]).then(([, result]) => result);
    }
    if (config !== 'COMMIT') return answered;
    return answered.then((result) => {
      if ((result as { command?: string } | undefined)?.command === 'ROLLBACK') throw new RolledBackAtCommit();
      return result;
    });
  };
  client.query = watching;
  return () => {
    if (client.query === watching) client.query = query;
  };
}

async function release(runner: QueryRunner): Promise<void> {
  if (!runner.isReleased) await runner.release();
}
