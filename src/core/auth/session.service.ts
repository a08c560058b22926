// Login sessions. PostgreSQL holds them; Redis holds their state for fast checks on every request
// and socket, so a revocation written there holds on every instance at once. Refresh tokens rotate:
// each is used once, and presenting a spent one revokes its whole session (the token family).
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { newSecretToken, newUuid, sha256 } from '../../shared/ids.js';
import { AppConfig } from '../config/app-config.js';
import { DomainError } from '../errors/domain-error.js';
import { RedisService } from '../redis/redis.service.js';
import { sql } from '../database/sql.js';
import { announceRevoked, revocationChannel, type RevokeReason } from './revocation.js';
import { Transactions } from '../database/transactions.js';

export interface OpenedSession {
  sessionId: string;
  refreshToken: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** How long a positive answer is cached before PostgreSQL is asked again. */
const ACTIVE_CACHE_SECONDS = 300;
const REVOKED = 'revoked';

interface RefreshRow {
  token_id: string;
  used_at: Date | null;
  expires_at: Date;
  session_id: string;
  user_id: string;
  revoked_at: Date | null;
}

type RotateOutcome =
  | { kind: 'refused' }
  | { kind: 'reused'; sessionId: string; userId: string }
  | { kind: 'rotated'; sessionId: string; userId: string; refreshToken: string; expiresAt: Date };

@Injectable()
export class SessionService {
  private readonly logger = new Logger(SessionService.name);

  constructor(
    private readonly transactions: Transactions,
    @InjectDataSource() private readonly db: DataSource,
    private readonly redis: RedisService,
    private readonly config: AppConfig,
  ) {}

  /** Pub/sub channel announcing revocations (sockets of the session are closed on it). */
  get revokedChannel(): string {
    return revocationChannel(this.redis);
  }

  async open(userId: string, meta: { userAgent?: string; ip?: string } = {}): Promise<OpenedSession> {
    const sessionId = newUuid();
    const refreshToken = newSecretToken();
    const expiresAt = this.refreshExpiry();
    await this.transactions.run(async (tx) => {
      await sql(tx, `INSERT INTO sessions (id, user_id, expires_at, user_agent, ip) VALUES ($1, $2, $3, $4, $5)`, [
        sessionId,
        userId,
        expiresAt,
        meta.userAgent?.slice(0, 512) ?? null,
        meta.ip ?? null,
      ]);
      await sql(tx, `INSERT INTO refresh_tokens (session_id, token_hash, expires_at) VALUES ($1, $2, $3)`, [
        sessionId,
        sha256(refreshToken),
        expiresAt,
      ]);
    });
    await this.cacheActive(sessionId, userId, expiresAt);
    return { sessionId, refreshToken };
  }

  /** Exchanges a refresh token for a new one in the same session. */
  async rotate(refreshToken: string): Promise<{ sessionId: string; userId: string; refreshToken: string }> {
    if (!REFRESH_TOKEN.test(refreshToken)) throw this.invalidRefreshToken();
    const outcome = await this.transactions.run(async (tx): Promise<RotateOutcome> => {
      const { rows } = await sql<RefreshRow>(
        tx,
        `SELECT rt.id AS token_id, rt.used_at, rt.expires_at, s.id AS session_id, s.user_id, s.revoked_at
           FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
          WHERE rt.token_hash = $1
          FOR UPDATE OF rt, s`,
        [sha256(refreshToken)],
      );
      const row = rows[0];
      if (!row || row.revoked_at) return { kind: 'refused' };
      if (row.used_at) {
        await sql(
          tx,
          `UPDATE sessions SET revoked_at = now(), revoked_reason = 'refresh_token_reuse' WHERE id = $1 AND revoked_at IS NULL`,
          [row.session_id],
        );
        return { kind: 'reused', sessionId: row.session_id, userId: String(row.user_id) };
      }
      if (row.expires_at.getTime() <= Date.now()) return { kind: 'refused' };
      const next = newSecretToken();
      const expiresAt = this.refreshExpiry();
      await sql(tx, `UPDATE refresh_tokens SET used_at = now() WHERE id = $1`, [row.token_id]);
      await sql(tx, `INSERT INTO refresh_tokens (session_id, token_hash, expires_at) VALUES ($1, $2, $3)`, [
        row.session_id,
        sha256(next),
        expiresAt,
      ]);
      await sql(tx, `UPDATE sessions SET expires_at = $2 WHERE id = $1`, [row.session_id, expiresAt]);
      return { kind: 'rotated', sessionId: row.session_id, userId: String(row.user_id), refreshToken: next, expiresAt };
    });
    if (outcome.kind === 'reused') {
      this.logger.warn(
        { session_id: outcome.sessionId, user_id: outcome.userId },
        'refresh token reused: session revoked',
      );
      await this.announce(outcome.sessionId, outcome.userId, 'refresh_token_reuse');
    }
    if (outcome.kind !== 'rotated') throw this.invalidRefreshToken();
    await this.cacheActive(outcome.sessionId, outcome.userId, outcome.expiresAt);
    return { sessionId: outcome.sessionId, userId: outcome.userId, refreshToken: outcome.refreshToken };
  }

  /**
   * Revokes a session everywhere: first in Redis (every instance checks there, so it takes effect
   * at once), then in PostgreSQL (the record the cache is rebuilt from), then announced.
   * Returns false when the session was unknown or already revoked.
   */
  async revoke(sessionId: string, reason: RevokeReason): Promise<boolean> {
    if (!UUID.test(sessionId)) return false;
    await this.markRevoked(sessionId);
    const { rows } = await sql<{ user_id: string }>(
      this.db,
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING user_id`,
      [sessionId, reason],
    );
    if (rows.length === 0) return false;
    await this.announce(sessionId, String(rows[0].user_id), reason);
    return true;
  }

  /** Revokes every live session of a user; returns how many. */
  async revokeAllForUser(userId: string, reason: RevokeReason): Promise<number> {
    const { rows } = await sql<{ id: string }>(
      this.db,
      `SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()`,
      [userId],
    );
    let count = 0;
    for (const row of rows) if (await this.revoke(row.id, reason)) count += 1;
    return count;
  }

  /** Whether the session exists, belongs to the user, and is neither revoked nor expired. */
  async isActive(sessionId: string, userId: string): Promise<boolean> {
    if (!UUID.test(sessionId)) return false;
    const cached = await this.redis.client.get(this.cacheKey(sessionId));
    if (cached === REVOKED) return false;
    if (cached !== null) return cached === `active:${userId}`;
    const { rows } = await sql<{ user_id: string; revoked_at: Date | null; expires_at: Date }>(
      this.db,
      `SELECT user_id, revoked_at, expires_at FROM sessions WHERE id = $1`,
      [sessionId],
    );
    const row = rows[0];
    if (!row || row.revoked_at || row.expires_at.getTime() <= Date.now()) {
      if (row) await this.markRevoked(sessionId);
      return false;
    }
    await this.cacheActive(sessionId, String(row.user_id), row.expires_at);
    return String(row.user_id) === userId;
  }

  /** Deletes sessions (and their refresh tokens) that ended more than `days` ago. */
  async purgeEnded(days = 7): Promise<number> {
    const { count } = await sql(
      this.db,
      `DELETE FROM sessions WHERE coalesce(revoked_at, expires_at) < now() - make_interval(days => $1)`,
      [days],
    );
    if (count > 0) this.logger.log({ purged: count }, 'ended sessions purged');
    return count;
  }

  private refreshExpiry(): Date {
    return new Date(Date.now() + this.config.env.JWT_REFRESH_TTL * 1000);
  }

  private cacheKey(sessionId: string): string {
    return this.redis.key('session', sessionId);
  }

  private async cacheActive(sessionId: string, userId: string, expiresAt: Date): Promise<void> {
    const remaining = Math.ceil((expiresAt.getTime() - Date.now()) / 1000);
    if (remaining <= 0) return;
    // NX: never overwrite a revocation marker written meanwhile by another instance.
    await this.redis.client.set(
      this.cacheKey(sessionId),
      `active:${userId}`,
      'EX',
      Math.min(remaining, ACTIVE_CACHE_SECONDS),
      'NX',
    );
  }

  private async markRevoked(sessionId: string): Promise<void> {
    // Long enough for every access token issued before the revocation to have expired; after
    // that a cache miss reads the revocation from PostgreSQL.
    await this.redis.client.set(this.cacheKey(sessionId), REVOKED, 'EX', this.config.env.JWT_ACCESS_TTL + 300);
  }

  private async announce(sessionId: string, userId: string, reason: RevokeReason): Promise<void> {
    await this.markRevoked(sessionId);
    await announceRevoked(this.redis, { kind: 'session', sessionId, userId, reason });
  }

  private invalidRefreshToken(): DomainError {
    return new DomainError('AUTHENTICATION_FAILED', 'invalid or expired refresh token');
  }
}
