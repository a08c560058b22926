// The one way to run a transaction. Deadlocks and serialization failures are retried (a fresh
// transaction, after a short random pause), never shown to the caller; every other failure rolls
// back and is thrown. `work` may therefore run more than once: it must not keep state across
// attempts, and what it announces (RealtimePublisher.publish) belongs to its attempt's transaction,
// so a rolled-back attempt announces nothing.
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
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
        return await (isolation ? this.db.transaction(isolation, work) : this.db.transaction(work));
      } catch (error) {
        const code = sqlStateOf(error);
        if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw error;
        this.logger.debug({ code, attempt }, 'transaction retried');
        await sleep(Math.random() * 10 * attempt);
      }
    }
  }
}
