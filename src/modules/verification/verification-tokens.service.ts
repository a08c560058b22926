// Verification tokens: 256 random bits handed to the client once, stored only as their sha-256,
// single use, bound to user and purpose and (when the request named them) to amount, currency and
// destination. Other modules call consume() with the operation the token is to authorize.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { sql } from '../../core/database/sql.js';
import { Clock } from '../../core/time/clock.js';
import { sha256 } from '../../shared/ids.js';
import { verificationErrors } from './verification.errors.js';
import {
  TOKEN_TTL_SECONDS,
  type IssuedToken,
  type TokenBinding,
  type TokenOperation,
  type VerificationMethod,
  type VerificationPurpose,
} from './verification.types.js';

const TOKEN_FORMAT = /^[0-9a-f]{64}$/;

export interface TokenGrant extends TokenBinding {
  userId: string;
  purpose: VerificationPurpose;
  method: VerificationMethod;
  challengeId?: string;
}

export interface ConsumedToken {
  id: string;
  method: VerificationMethod;
}

@Injectable()
export class VerificationTokensService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Issues a token inside the transaction that completed the verification. */
  async issue(tx: EntityManager, grant: TokenGrant, now: Date): Promise<IssuedToken> {
    const token = randomBytes(32).toString('hex');
    await sql(
      tx,
      `INSERT INTO verification_tokens
         (token_hash, user_id, purpose, method, challenge_id, amount, currency, destination, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        sha256(token),
        grant.userId,
        grant.purpose,
        grant.method,
        grant.challengeId ?? null,
        grant.amount?.toString() ?? null,
        grant.currency ?? null,
        grant.destination ?? null,
        now,
        new Date(now.getTime() + TOKEN_TTL_SECONDS * 1000),
      ],
    );
    return {
      verification_token: token,
      purpose: grant.purpose,
      method: grant.method,
      expires_in: TOKEN_TTL_SECONDS,
      message: `Use this token for your next ${grant.purpose} request`,
    };
  }

  /**
   * Spends a token on `operation`, atomically: of two concurrent consumers exactly one wins. A
   * missing token is VERIFICATION_REQUIRED; an unknown, spent, expired, foreign or mismatched one
   * is VERIFICATION_INVALID and stays as it was. Pass the caller's transaction as `manager` so a
   * rolled-back operation leaves the token unspent.
   */
  async consume(
    userId: string,
    token: string | null | undefined,
    purpose: VerificationPurpose,
    operation: TokenOperation = {},
    manager?: EntityManager,
  ): Promise<ConsumedToken> {
    if (token === undefined || token === null || token === '') throw verificationErrors.tokenRequired();
    if (typeof token !== 'string' || !TOKEN_FORMAT.test(token)) throw verificationErrors.tokenInvalid();
    const now = this.clock.now();
    // A binding the token carries must be matched by the operation; one it lacks binds nothing.
    const { rows } = await sql<{ id: string; method: VerificationMethod }>(
      manager ?? this.db,
      `UPDATE verification_tokens SET consumed_at = $4, consumed_for = $8
        WHERE token_hash = $1 AND user_id = $2 AND purpose = $3
          AND consumed_at IS NULL AND expires_at > $4
          AND (amount IS NULL OR amount = $5::bigint)
          AND (currency IS NULL OR currency = $6)
          AND (destination IS NULL OR destination = $7)
        RETURNING id, method`,
      [
        sha256(token),
        userId,
        purpose,
        now,
        operation.amount?.toString() ?? null,
        operation.currency ?? null,
        operation.destination?.trim() ?? null,
        operation.reference ?? purpose,
      ],
    );
    const consumed = rows[0];
    if (!consumed) throw verificationErrors.tokenInvalid();
    return { id: String(consumed.id), method: consumed.method };
  }
}
