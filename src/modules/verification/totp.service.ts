// Two-factor authentication with TOTP (RFC 6238, otplib): setup and enabling, and verification.
// Secrets are stored encrypted; a code is accepted within one time step either side of now and
// only for a step later than the last accepted one, so no code is ever accepted twice.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';
import type { DataSource, EntityManager } from 'typeorm';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { unixSeconds } from '../../core/time/clock.js';
import { UsersService } from '../users/users.service.js';
import { secretContext, VerificationKeys } from './verification-keys.js';
import { VerificationLockService } from './verification-lock.service.js';
import { VerificationTokensService } from './verification-tokens.service.js';
import { verificationErrors } from './verification.errors.js';
import {
  OTP_TTL_SECONDS,
  TOTP_ISSUER,
  TOTP_PERIOD_SECONDS,
  TOTP_WINDOW_STEPS,
  type IssuedToken,
  type TokenBinding,
  type VerificationPurpose,
} from './verification.types.js';
import { announceVerification } from './verification.events.js';

export interface TwoFactorSetup {
  secret: string;
  otpauth_url: string;
}

export interface TotpRequested {
  method: 'totp';
  purpose: VerificationPurpose;
  next_step: 'verify_totp';
}

interface TotpRow {
  secret_enc: string;
  enabled_at: Date | null;
}

@Injectable()
export class TotpService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly keys: VerificationKeys,
    private readonly locks: VerificationLockService,
    private readonly tokens: VerificationTokensService,
    private readonly users: UsersService,
    private readonly publisher: RealtimePublisher,
  ) {}

  /** A new secret for the user's authenticator; replaces one set up but not yet enabled. */
  async setup(userId: string): Promise<TwoFactorSetup> {
    const user = await this.users.findById(userId);
    if (!user) throw DomainError.unauthorized();
    const secret = generateSecret();
    const { count } = await sql(
      this.db,
      `INSERT INTO user_totp (user_id, secret_enc) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, last_step = NULL, updated_at = now()
        WHERE user_totp.enabled_at IS NULL`,
      [userId, this.keys.seal(secret, secretContext(userId))],
    );
    if (count === 0) throw verificationErrors.twoFactorAlreadyEnabled();
    return {
      secret,
      otpauth_url: generateURI({
        issuer: TOTP_ISSUER,
        label: user.email,
        secret,
        period: TOTP_PERIOD_SECONDS,
      }),
    };
  }

  /** Turns 2FA on once the user proves the authenticator holds the secret. */
  async enable(userId: string, code: string): Promise<{ two_factor_enabled: true }> {
    const outcome = await this.locks.step(userId, async (tx, now): Promise<DomainError | null> => {
      const row = await this.row(tx, userId);
      if (!row) return verificationErrors.twoFactorNotSetUp();
      if (row.enabled_at) return verificationErrors.twoFactorAlreadyEnabled();
      const step = await this.matchingStep(userId, row, code, now);
      if (step === null) {
        await this.locks.recordFailure(tx, userId, now);
        return verificationErrors.totpInvalid();
      }
      await sql(tx, `UPDATE user_totp SET enabled_at = $2, last_step = $3, updated_at = $2 WHERE user_id = $1`, [
        userId,
        now,
        step,
      ]);
      await this.users.enableTwoFactor(tx, userId);
      return null;
    });
    if (outcome) throw outcome;
    return { two_factor_enabled: true };
  }

  /**
   * verification_request with method totp: nothing is sent; what the request binds (amount,
   * currency, destination) waits for verify_totp.
   */
  async request(userId: string, purpose: VerificationPurpose, binding: TokenBinding): Promise<TotpRequested> {
    await this.locks.step(userId, async (tx, now) => {
      const row = await this.row(tx, userId);
      if (!row?.enabled_at) throw verificationErrors.twoFactorNotEnabled();
      await sql(
        tx,
        `UPDATE verification_challenges SET status = 'superseded' WHERE user_id = $1 AND purpose = $2 AND status = 'pending'`,
        [userId, purpose],
      );
      await sql(
        tx,
        `INSERT INTO verification_challenges (id, user_id, method, purpose, amount, currency, destination, created_at, expires_at)
         VALUES ($1, $2, 'totp', $3, $4, $5, $6, $7, $8)`,
        [
          randomUUID(),
          userId,
          purpose,
          binding.amount?.toString() ?? null,
          binding.currency ?? null,
          binding.destination ?? null,
          now,
          new Date(now.getTime() + OTP_TTL_SECONDS * 1000),
        ],
      );
    });
    return { method: 'totp', purpose, next_step: 'verify_totp' };
  }

  /** Checks a TOTP code; a match for a step not used before is exchanged for a token. */
  async verify(userId: string, code: string, purpose: VerificationPurpose): Promise<IssuedToken> {
    const outcome = await this.locks.step(userId, async (tx, now): Promise<IssuedToken | DomainError> => {
      const row = await this.row(tx, userId);
      if (!row?.enabled_at) return verificationErrors.twoFactorNotEnabled();
      const step = await this.matchingStep(userId, row, code, now);
      const announce = (verified: boolean, reason?: string, challengedAt: Date | null = null) =>
        announceVerification(
          this.publisher,
          tx,
          userId,
          { verified, method: 'totp', purpose, reason },
          now,
          challengedAt,
        );
      if (step === null) {
        await this.locks.recordFailure(tx, userId, now);
        const invalid = verificationErrors.totpInvalid();
        announce(false, invalid.code);
        return invalid;
      }
      // The replay guard: only a later step than the last accepted one moves last_step.
      const { count } = await sql(
        tx,
        `UPDATE user_totp SET last_step = $2, updated_at = $3
          WHERE user_id = $1 AND enabled_at IS NOT NULL AND (last_step IS NULL OR last_step < $2)`,
        [userId, step, now],
      );
      if (count === 0) {
        const replayed = verificationErrors.totpReplayed();
        announce(false, replayed.code);
        return replayed;
      }

      const { rows } = await sql<{
        id: string;
        amount: string | null;
        currency: string | null;
        destination: string | null;
        created_at: Date;
      }>(
        tx,
        `UPDATE verification_challenges SET status = 'verified', verified_at = $3
          WHERE user_id = $1 AND purpose = $2 AND method = 'totp' AND status = 'pending' AND expires_at > $3
          RETURNING id, amount, currency, destination, created_at`,
        [userId, purpose, now],
      );
      const challenge = rows[0];
      announce(true, undefined, challenge?.created_at ?? null);
      return this.tokens.issue(
        tx,
        {
          userId,
          purpose,
          method: 'totp',
          challengeId: challenge?.id,
          amount: challenge?.amount ? BigInt(challenge.amount) : undefined,
          currency: challenge?.currency ?? undefined,
          destination: challenge?.destination ?? undefined,
        },
        now,
      );
    });
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }

  private async row(tx: EntityManager, userId: string): Promise<TotpRow | undefined> {
    const { rows } = await sql<TotpRow>(tx, `SELECT secret_enc, enabled_at FROM user_totp WHERE user_id = $1`, [
      userId,
    ]);
    return rows[0];
  }

  /** The time step (RFC 6238 counter) whose code `code` is, within the window around now; or null. */
  private async matchingStep(userId: string, row: TotpRow, code: string, now: Date): Promise<number | null> {
    const epoch = unixSeconds(now);
    const result = await verify({
      secret: this.keys.open(row.secret_enc, secretContext(userId)),
      token: code,
      epoch,
      epochTolerance: TOTP_WINDOW_STEPS * TOTP_PERIOD_SECONDS,
      period: TOTP_PERIOD_SECONDS,
    });
    if (!result.valid) return null;
    return Math.floor(epoch / TOTP_PERIOD_SECONDS) + result.delta;
  }
}
