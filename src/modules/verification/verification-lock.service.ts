// The daily cap on wrong codes (OTP and TOTP together) per account. Reaching it locks
// verification for LOCK_SECONDS and tells the user with a `notice`. Also the frame every
// verification step runs in (step()): one transaction, serialized per user, refused while the
// user is locked out.
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import { sql } from '../../core/database/sql.js';
import { Transactions } from '../../core/database/transactions.js';
import { Clock } from '../../core/time/clock.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { verificationErrors } from './verification.errors.js';
import { LOCK_SECONDS } from './verification.types.js';

export const LOCK_NOTICE =
  'Verification is locked for 24 hours after too many wrong codes. If this was not you, change your password now.';

@Injectable()
export class VerificationLockService {
  constructor(
    private readonly transactions: Transactions,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly notifications: NotificationsService,
  ) {}

  /**
   * Runs one verification step of the user: `work` in a transaction (retried as Transactions.run
   * retries, at the same `now`, read once before it starts) that holds the user's verification
   * lock, after refusing with VERIFICATION_LOCKED while the user is locked out.
   */
  async step<T>(userId: string, work: (tx: EntityManager, now: Date) => Promise<T>): Promise<T> {
    const now = this.clock.now();
    return this.transactions.run(async (tx) => {
      await this.serialize(tx, userId);
      await this.assertUnlocked(tx, userId, now);
      return work(tx, now);
    });
  }

  /**
   * Serializes the verification steps of one user until the transaction ends (an advisory lock,
   * so no row of another module is held): resend spacing, attempt counts and the daily cap hold
   * under concurrent requests.
   */
  private async serialize(tx: EntityManager, userId: string): Promise<void> {
    await sql(tx, `SELECT pg_advisory_xact_lock(hashtextextended('verification:' || $1, 0))`, [userId]);
  }

  /** Refuses with VERIFICATION_LOCKED (and retry_after) while the user is locked out. */
  private async assertUnlocked(tx: EntityManager, userId: string, now: Date): Promise<void> {
    const { rows } = await sql<{ until: Date | null }>(
      tx,
      `SELECT max(locked_until) AS until FROM verification_failures WHERE user_id = $1 AND locked_until > $2`,
      [userId, now],
    );
    const until = rows[0]?.until;
    if (until) throw verificationErrors.locked(Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000)));
  }

  /** Counts one wrong code for today (UTC); the one that reaches the limit locks and notifies. */
  async recordFailure(tx: EntityManager, userId: string, now: Date): Promise<void> {
    const limit = this.config.env.VERIFICATION_FAILURE_LIMIT;
    const { rows } = await sql<{ failures: number }>(
      tx,
      `INSERT INTO verification_failures (user_id, day, failures) VALUES ($1, ($2::timestamptz AT TIME ZONE 'UTC')::date, 1)
       ON CONFLICT (user_id, day) DO UPDATE SET failures = verification_failures.failures + 1
       RETURNING failures`,
      [userId, now],
    );
    if (rows[0]?.failures !== limit) return;
    await sql(
      tx,
      `UPDATE verification_failures SET locked_until = $3
        WHERE user_id = $1 AND day = ($2::timestamptz AT TIME ZONE 'UTC')::date`,
      [userId, now, new Date(now.getTime() + LOCK_SECONDS * 1000)],
    );
    await this.notifications.notify(tx, userId, LOCK_NOTICE);
  }
}
