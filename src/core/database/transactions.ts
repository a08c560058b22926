// The one way to run a transaction. Deadlocks and serialization failures are retried (a fresh
// transaction, after a short random pause), never shown to the caller; every other failure rolls
// back and is thrown. `work` may therefore run more than once: it must not keep state across
// attempts, and what it announces (RealtimePublisher.publish) belongs to its attempt's transaction,
// so a rolled-back attempt announces nothing.
//
// BEGIN costs no round trip of its own: it is held back and sent with the transaction's first
// statement, the two pipelined on the connection (pg's `pipeline` mode, data-source.ts), so a
// posting at light load waits for one round trip fewer. The two leave in one write, and a
// statement sent with the COMMIT (sendWithNext, the outbox's) leaves in the COMMIT's: on this kind of
// machine each write to a local socket, and each wake-up of PostgreSQL, costs more than building
// the statement. (Holding every statement until the end of the turn measured worse: the lock then
// waits for the write to be built instead of running meanwhile.) test/integration/transactions.test.ts
// pins that the first statement runs inside the transaction, at its isolation level, that a
// transaction without statements commits and one that fails rolls back, and that the retry holds.
//
// A COMMIT that PostgreSQL answers with ROLLBACK (a statement failed and its error was caught, so
// the transaction was aborted) is an error, not a success: nothing was committed. Nor is a
// transaction committed after any of its statements failed, even where PostgreSQL never saw the
// statement (pg refuses a value it cannot encode without sending it): statements sent without
// being awaited (sql.ts send()) are pipelined with the COMMIT, so the COMMIT must stand for them.
// Either way RolledBackAtCommit carries the statement's failure as its `cause`, and a deadlock
// or serialization failure there is retried like any other.
//
// A transaction run with `genericPlans` (the posting queue's) plans each prepared statement once
// per connection (plan_cache_mode = force_generic_plan, SET LOCAL, sent in BEGIN's message). Left
// to itself PostgreSQL plans a prepared statement again at every call whenever it estimates the
// generic plan dearer than the custom ones, which it does for a lock of a few accounts by id: it
// guesses ten for an array parameter. The plans are the same; planning the expected-lock again
// cost 0.25 ms of a transaction's ~1.5 ms of PostgreSQL time at 1 in flight (bench/README.md).
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import {
  QueryFailedError,
  QueryRunnerAlreadyReleasedError,
  type DataSource,
  type EntityManager,
  type QueryRunner,
} from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel.js';

const { DatabaseError } = pg;
type DatabaseError = pg.DatabaseError;

/** "current transaction is aborted, commands ignored until end of transaction block". */
const IN_FAILED_TRANSACTION = '25P02';
/** PostgreSQL's codes for "try again": deadlock detected, serialization failure. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 6;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** PostgreSQL's error behind `error` (a failed query, as TypeORM or pg reports it), if it is one. */
export const databaseErrorOf = (error: unknown): DatabaseError | undefined => {
  const cause: unknown = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  return cause instanceof DatabaseError ? cause : undefined;
};

/** The SQLSTATE of a failed query, if it is one. */
export const sqlStateOf = (error: unknown): string | undefined => databaseErrorOf(error)?.code;

export type TransactionWork<T> = (tx: EntityManager) => Promise<T>;

export interface TransactionOptions {
  /** READ COMMITTED unless given. */
  isolation?: IsolationLevel;
  /** Each prepared statement planned once per connection (see the top of this file). */
  genericPlans?: boolean;
}

/** Sent with BEGIN, in its message, for a transaction with `genericPlans`. */
const GENERIC_PLANS = 'SET LOCAL plan_cache_mode = force_generic_plan';

@Injectable()
export class Transactions {
  private readonly logger = new Logger(Transactions.name);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Runs `work` in one transaction (READ COMMITTED, or as `options` say), retried as above. */
  async run<T>(work: TransactionWork<T>, options: TransactionOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.once(work, options);
      } catch (error) {
        const code = sqlStateOf(error instanceof RolledBackAtCommit ? error.cause : error);
        if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw error;
        this.logger.debug({ code, attempt }, 'transaction retried');
        await sleep(Math.random() * 10 * attempt);
      }
    }
  }

  /** One attempt, as TypeORM's EntityManager.transaction() runs it, watched (watchTransaction). */
  private async once<T>(work: TransactionWork<T>, { isolation, genericPlans }: TransactionOptions): Promise<T> {
    const runner = this.db.createQueryRunner();
    let watch: Watch | undefined;
    const data = runner.data as Record<symbol, Date | Watch | undefined>;
    try {
      watch = watchTransaction(
        (await runner.connect()) as PgClient,
        () => {
          data[BEGUN_AT] = new Date();
        },
        genericPlans ? GENERIC_PLANS : undefined,
      );
      data[WATCH] = watch;
      await runner.startTransaction(isolation);
      const result = await work(runner.manager);
      await runner.commitTransaction();
      return result;
    } catch (error) {
      // The original error is thrown even if the rollback fails.
      await runner.rollbackTransaction().catch(() => undefined);
      // TypeORM wraps what the client threw at COMMIT in a QueryFailedError.
      if (error instanceof QueryFailedError && error.driverError instanceof RolledBackAtCommit) throw error.driverError;
      // A statement refused because an earlier one (sent, not awaited) had failed, or the runner
      // released under the transaction because its connection broke (TypeORM does, on the client's
      // error): the first failure says why.
      const first = watch?.failure();
      const refused = sqlStateOf(error) === IN_FAILED_TRANSACTION || error instanceof QueryRunnerAlreadyReleasedError;
      if (refused && first) throw new RolledBackAtCommit(first.error);
      throw error;
    } finally {
      data[WATCH] = undefined;
      watch?.restore();
      await release(runner);
    }
  }
}

/** Where a transaction's runner keeps the time its BEGIN was sent (beganAt), and its watch. */
const BEGUN_AT = Symbol('begun-at');
const WATCH = Symbol('watch');

/**
 * Holds what the transaction of `tx` writes from now until its next statement has been sent, which
 * leaves in the same write (sql.ts sendWithNext()); at the end of this turn of the event loop at
 * the latest.
 */
export function holdForNext(tx: EntityManager): { sent(): void } | undefined {
  const watch = (tx.queryRunner?.data as Record<symbol, Watch | undefined> | undefined)?.[WATCH];
  return watch?.holdForNext();
}

/**
 * When the transaction of `tx` began, by this process's clock: just before its BEGIN was sent, so
 * never after PostgreSQL's now() for it (on one clock). Now, if it has not begun yet.
 */
export function beganAt(tx: EntityManager): Date {
  return (tx.queryRunner?.data as Record<symbol, Date | undefined> | undefined)?.[BEGUN_AT] ?? new Date();
}

/**
 * What of a pg client watchTransaction() uses: its query method (a promise without a callback), its
 * error event, its socket.
 */
interface PgClient {
  query: (this: PgClient, config: unknown, values?: unknown) => Promise<unknown>;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  removeListener(event: 'error', listener: (error: unknown) => void): unknown;
  connection?: { stream?: { cork?: () => void; uncork?: () => void } };
}

const BEGIN = /^START TRANSACTION$/;
/** What pg answers BEGIN with, for TypeORM, which reads nothing of it. */
const BEGUN = Object.freeze({ command: 'BEGIN', rowCount: null, rows: [], fields: [] });

/**
 * The transaction was rolled back at COMMIT, or before it by a statement PostgreSQL refused
 * because an earlier one (sent, not awaited) had failed: that earlier failure is the `cause`, when
 * the client saw it. Nothing was committed, and the caller must not be told it was; retried only
 * when the cause is a deadlock or serialization failure.
 */
export class RolledBackAtCommit extends Error {
  constructor(cause?: unknown) {
    super('the transaction was rolled back at COMMIT: one of its statements had failed', { cause });
    this.name = 'RolledBackAtCommit';
  }
}

/**
 * Watches the transaction of `client` (the pool client leased for it). Its `START TRANSACTION` is
 * held back and sent just before the statement that follows, in the same turn (pipelined: one
 * round trip for both), with `withBegin` after it in the same message if given; that statement's
 * answer waits for BEGIN's, so a failed BEGIN fails it. The first statement that fails (or the
 * connection's error) is remembered: a COMMIT after it is sent as ROLLBACK, and a COMMIT answered
 * with ROLLBACK is an error too (RolledBackAtCommit, with that failure as its cause).
 */
interface Watch {
  /** The first statement of the transaction that failed, if one has. */
  failure(): { error: unknown } | undefined;
  /** See holdForNext(): call sent() once the statement to hold has been sent. */
  holdForNext(): { sent(): void } | undefined;
  /** Ends the watch (releasing what it holds). */
  restore(): void;
}

function watchTransaction(client: PgClient, onBegin: () => void, withBegin?: string): Watch {
  const query = client.query;
  let held: string | undefined;
  let begun = false;
  let failed: { error: unknown } | undefined;
  // Writes held (corked) until a statement is sent (`until`), or the end of the turn.
  const stream = client.connection?.stream;
  let holding: 'statement' | 'next' | undefined;
  const release = () => {
    if (holding === undefined) return;
    holding = undefined;
    stream!.uncork!();
  };
  const hold = (until: 'statement' | 'next'): boolean => {
    if (holding !== undefined || !stream?.cork || !stream.uncork) return false;
    stream.cork();
    holding = until;
    setImmediate(release);
    return true;
  };
  const watching = function (this: PgClient, config: unknown, values?: unknown): Promise<unknown> {
    if (!begun && typeof config === 'string' && BEGIN.test(config)) {
      begun = true;
      held = withBegin === undefined ? config : `${config}; ${withBegin}`;
      return Promise.resolve(BEGUN);
    }
    if (config === 'COMMIT' && failed) {
      const { error } = failed;
      return query.call(client, 'ROLLBACK').then(() => Promise.reject(new RolledBackAtCommit(error)));
    }
    // Each answer is watched as pg gives it, one handler each: answers come in the order their
    // statements were sent, so the handlers run in that order too, the COMMIT's check after all of
    // them, and a failure seen before a statement is sent was recorded before it.
    const sent = (config: unknown, values?: unknown): Promise<unknown> => {
      const answer = query.call(client, config, values);
      if (holding === 'next') release();
      if (config !== 'COMMIT') {
        answer.then(undefined, (error: unknown) => {
          failed ??= { error };
        });
      }
      return answer;
    };
    let answered: Promise<unknown>;
    if (held === undefined) {
      answered = sent(config, values);
    } else {
      onBegin();
      const holds = hold('statement');
      const sentBegin = sent(held);
      held = undefined;
      answered = Promise.all([sentBegin, sent(config, values)]).then(([, result]) => result);
      if (holds) release();
    }
    if (config !== 'COMMIT') return answered;
    return answered.then((result) => {
      if ((result as { command?: string } | undefined)?.command === 'ROLLBACK') {
        throw new RolledBackAtCommit(failed?.error);
      }
      return result;
    });
  };
  client.query = watching;
  // A connection that breaks while no statement waits for an answer (the transaction waits for
  // something else before its COMMIT) is a failure of the transaction too.
  const broken = (error: unknown) => {
    failed ??= { error };
  };
  client.on('error', broken);
  return {
    failure: () => failed,
    holdForNext: () =>
      hold('statement')
        ? {
            sent: () => {
              if (holding === 'statement') holding = 'next';
            },
          }
        : undefined,
    restore: () => {
      // The connection goes back to the pool with nothing held.
      release();
      client.removeListener('error', broken);
      if (client.query === watching) client.query = query;
    },
  };
}

async function release(runner: QueryRunner): Promise<void> {
  if (!runner.isReleased) await runner.release();
}
