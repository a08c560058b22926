// One-time codes by email, SMS or WhatsApp: issue (spaced 30 s apart per user, one open code per
// purpose; delivered through the `notify.otp` queue by OtpDispatchService), verify (constant time,
// 5 tries, 180 s).
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { UsersService } from '../users/users.service.js';
import { maskEmail, maskPhone, newOtpCode } from './otp-codes.js';
import { OtpDispatchService } from './otp-dispatch.service.js';
import { VerificationKeys } from './verification-keys.js';
import { VerificationLockService } from './verification-lock.service.js';
import { VerificationTokensService } from './verification-tokens.service.js';
import { verificationErrors } from './verification.errors.js';
import {
  CHANNEL_OF,
  OTP_MAX_ATTEMPTS,
  OTP_RESEND_AFTER_SECONDS,
  OTP_TTL_SECONDS,
  type DeliveryChannel,
  type IssuedToken,
  type OtpMethod,
  type TokenBinding,
  type VerificationMethod,
  type VerificationPurpose,
} from './verification.types.js';
import { announceVerification } from './verification.events.js';

export interface OtpSent {
  method: OtpMethod;
  channel: DeliveryChannel;
  recipient: string;
  purpose: VerificationPurpose;
  next_step: 'verify_otp';
  expires_in: number;
}

interface ChallengeRow {
  id: string;
  method: VerificationMethod;
  status: string;
  attempts: number;
  code_hash: Buffer;
  expires_at: Date;
  created_at: Date;
  amount: string | null;
  currency: string | null;
  destination: string | null;
}

@Injectable()
export class OtpService {
  constructor(
    private readonly keys: VerificationKeys,
    private readonly locks: VerificationLockService,
    private readonly tokens: VerificationTokensService,
    private readonly users: UsersService,
    private readonly dispatch: OtpDispatchService,
    private readonly publisher: RealtimePublisher,
  ) {}

  /** Sends a new code; the previous open one of the same purpose stops counting. */
  async request(
    userId: string,
    method: OtpMethod,
    purpose: VerificationPurpose,
    binding: TokenBinding,
  ): Promise<OtpSent> {
    const channel = CHANNEL_OF[method];
    const user = await this.users.findById(userId);
    if (!user) throw DomainError.unauthorized();
    const address = channel === 'email' ? user.email : user.phone;
    if (!address) throw verificationErrors.noPhone(method);
    this.dispatch.assertAvailable(channel);

    const code = newOtpCode();
    const challengeId = randomUUID();
    const messageId = await this.locks.step(userId, async (tx, now) => {
      const { rows: last } = await sql<{ created_at: Date }>(
        tx,
        `SELECT created_at FROM verification_challenges
          WHERE user_id = $1 AND method <> 'totp' AND status <> 'undelivered'
          ORDER BY created_at DESC LIMIT 1`,
        [userId],
      );
      const elapsedMs = last[0] ? now.getTime() - last[0].created_at.getTime() : Infinity;
      if (elapsedMs < OTP_RESEND_AFTER_SECONDS * 1000) {
        throw verificationErrors.otpResendTooEarly(Math.ceil((OTP_RESEND_AFTER_SECONDS * 1000 - elapsedMs) / 1000));
      }
      await sql(
        tx,
        `UPDATE verification_challenges SET status = 'superseded' WHERE user_id = $1 AND purpose = $2 AND status = 'pending'`,
        [userId, purpose],
      );
      await sql(
        tx,
        `INSERT INTO verification_challenges
           (id, user_id, method, purpose, amount, currency, destination, code_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          challengeId,
          userId,
          method,
          purpose,
          binding.amount?.toString() ?? null,
          binding.currency ?? null,
          binding.destination ?? null,
          this.keys.otpHash(challengeId, code),
          now,
          new Date(now.getTime() + OTP_TTL_SECONDS * 1000),
        ],
      );
      return this.dispatch.write(tx, { challengeId, userId, channel, address, code, purpose, binding, now });
    });

    await this.dispatch.enqueue(messageId, challengeId, channel);
    const recipient = channel === 'email' ? maskEmail(address) : maskPhone(address);
    return {
      method,
      channel,
      recipient,
      purpose,
      next_step: 'verify_otp',
      expires_in: OTP_TTL_SECONDS,
    };
  }

  /** Checks a code against the open challenge of `purpose`; a match is exchanged for a token. */
  async verify(userId: string, code: string, purpose: VerificationPurpose): Promise<IssuedToken> {
    // A wrong code is counted (and committed) before it is refused, so the refusal is thrown
    // outside the transaction.
    const outcome = await this.locks.step(userId, async (tx, now): Promise<IssuedToken | DomainError> => {
      const { rows } = await sql<ChallengeRow>(
        tx,
        `SELECT id, method, status, attempts, code_hash, expires_at, created_at, amount, currency, destination
           FROM verification_challenges
          WHERE user_id = $1 AND purpose = $2 AND method <> 'totp'
          ORDER BY created_at DESC LIMIT 1`,
        [userId, purpose],
      );
      const challenge = rows[0];
      if (!challenge || challenge.status !== 'pending') {
        return challenge?.status === 'voided'
          ? verificationErrors.otpAttemptsExceeded()
          : verificationErrors.otpNotRequested(purpose);
      }
      const announce = (verified: boolean, reason?: string) =>
        announceVerification(
          this.publisher,
          tx,
          userId,
          { verified, method: challenge.method, purpose, reason },
          now,
          challenge.created_at,
        );
      if (challenge.expires_at.getTime() <= now.getTime()) {
        const expired = verificationErrors.otpExpired();
        announce(false, expired.code);
        return expired;
      }

      if (!this.keys.otpMatches(challenge.id, code, challenge.code_hash)) {
        const attempts = challenge.attempts + 1;
        await sql(tx, `UPDATE verification_challenges SET attempts = $2, status = $3 WHERE id = $1`, [
          challenge.id,
          attempts,
          attempts >= OTP_MAX_ATTEMPTS ? 'voided' : 'pending',
        ]);
        await this.locks.recordFailure(tx, userId, now);
        const invalid = verificationErrors.otpInvalid(OTP_MAX_ATTEMPTS - attempts);
        announce(false, invalid.code);
        return invalid;
      }
      announce(true);

      await sql(tx, `UPDATE verification_challenges SET status = 'verified', verified_at = $2 WHERE id = $1`, [
        challenge.id,
        now,
      ]);
      return this.tokens.issue(
        tx,
        {
          userId,
          purpose,
          method: challenge.method,
          challengeId: challenge.id,
          amount: challenge.amount === null ? undefined : BigInt(challenge.amount),
          currency: challenge.currency ?? undefined,
          destination: challenge.destination ?? undefined,
        },
        now,
      );
    });
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }
}
