// The daily cap on wrong codes (OTP and TOTP together) per account. Reaching it locks
// verification for LOCK_SECONDS and tells the user with a `notice`. Also the per-user
// serialization every verification step runs under.
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import { sql } from '../../core/database/sql.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { verificationErrors } from './verification.errors.js';
import { LOCK_SECONDS } from './verification.types.js';

export const LOCK_NOTICE =
  'Verification is locked for 24 hours after too many wrong codes. If this was not you, change your password now.';

@Injectable()
export class VerificationLockService {
  constructor(
    private readonly config: AppConfig,
    private readonly notifications: NotificationsService,
  ) {}

  /**
   * Serializes the verification steps of one user until the transaction ends (an advisory lock,
   * so no row of another module is held): resend spacing, attempt counts and the daily cap hold
   * under concurrent requests.
   */
  async serialize(tx: EntityManager, userId: string): Promise<void> {
    await sql(tx, `SELECT pg_advisory_xact_lock(hashtextextended('verification:' || $1, 0))`, [userId]);
  }

  /** Refuses with VERIFICATION_LOCKED (and retry_after) while the user is locked out. */
  async assertUnlocked(tx: EntityManager, userId: string, now: Date): Promise<void> {
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
