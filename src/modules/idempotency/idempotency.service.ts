// Idempotency keys of money-moving requests (contract section 3). A key is claimed in the same
// transaction as the money moves: a concurrent request with the same key waits on the unique index
// until the first commits, then replays its stored response. Same key, other body: refused.
import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';

export type Claim<T> = { fresh: true } | { fresh: false; response: T };

/** A key a request wants to claim. */
export interface KeyClaim {
  userId: string;
  key: string;
  requestType: string;
  hash: Buffer;
}

/** A claimed key's fate at the end of its transaction: its response, or given up (refused request). */
export type KeyOutcome = { userId: string; key: string } & ({ response: unknown } | { abandoned: true });

const keyOf = (userId: string, key: string) => `${userId}/${key}`;

/** Keys are honoured for 24 hours; older ones count as unused. */
const WINDOW_HOURS = 24;

/** The hash of a request: canonical JSON (sorted keys) of its normalized fields. */
export function requestHash(request: Record<string, unknown>): Buffer {
  const canonical = JSON.stringify(
    Object.keys(request)
      .sort()
      .map((key) => [key, request[key]]),
  );
  return createHash('sha256').update(canonical).digest();
}

@Injectable()
export class IdempotencyService {
  async claim<T>(tx: EntityManager, userId: string, key: string, requestType: string, hash: Buffer): Promise<Claim<T>> {
    const inserted = await sql(
      tx,
      `INSERT INTO idempotency_keys (user_id, key, request_type, request_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, key) DO NOTHING RETURNING 1`,
      [userId, key, requestType, hash],
    );
    if (inserted.count === 1) return { fresh: true };
    const { rows } = await sql<{ request_type: string; request_hash: Buffer; response: T | null; expired: boolean }>(
      tx,
      `SELECT request_type, request_hash, response, created_at < now() - make_interval(hours => $3) AS expired
         FROM idempotency_keys WHERE user_id = $1 AND key = $2 FOR UPDATE`,
      [userId, key, WINDOW_HOURS],
    );
    const stored = rows[0];
    if (stored.expired || stored.response === null) {
      await sql(
        tx,
        `UPDATE idempotency_keys SET request_type = $3, request_hash = $4, response = NULL, created_at = now()
          WHERE user_id = $1 AND key = $2`,
        [userId, key, requestType, hash],
      );
      return { fresh: true };
    }
    if (stored.request_type !== requestType || !stored.request_hash.equals(hash)) {
      throw new DomainError('IDEMPOTENCY_CONFLICT', 'idempotency_key was already used for a different request', {
        field: 'idempotency_key',
      });
    }
    return { fresh: false, response: stored.response };
  }

  /**
   * Claims keys not used before, in one statement, in (user, key) order so that concurrent
   * claimers never wait on each other in a cycle. Returns the keys claimed now (see `claimedNow`);
   * a key that already exists is left to claim(), which replays, refuses or renews it.
   */
  async claimNew(tx: EntityManager, claims: KeyClaim[]): Promise<Set<string>> {
    if (claims.length === 0) return new Set();
    const { rows } = await sql<{ user_id: string; key: string }>(
      tx,
      `INSERT INTO idempotency_keys (user_id, key, request_type, request_hash)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bytea[]) AS c(user_id, key, request_type, request_hash)
        ORDER BY user_id, key
       ON CONFLICT (user_id, key) DO NOTHING RETURNING user_id, key`,
      [
        claims.map((c) => c.userId),
        claims.map((c) => c.key),
        claims.map((c) => c.requestType),
        claims.map((c) => c.hash),
      ],
    );
    return new Set(rows.map((r) => keyOf(String(r.user_id), r.key)));
  }

  static claimedNow(claimed: Set<string>, claim: { userId: string; key: string }): boolean {
    return claimed.has(keyOf(claim.userId, claim.key));
  }

  /** Stores the responses of claimed keys and drops the claims of refused requests, in one statement. */
  async settle(tx: EntityManager, outcomes: KeyOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    const done = outcomes.filter((o): o is KeyOutcome & { response: unknown } => 'response' in o);
    const abandoned = outcomes.filter((o) => 'abandoned' in o);
    await sql(
      tx,
      `WITH done AS (
         UPDATE idempotency_keys k SET response = d.response
           FROM unnest($1::bigint[], $2::text[], $3::json[]) AS d(user_id, key, response)
          WHERE k.user_id = d.user_id AND k.key = d.key
       )
       DELETE FROM idempotency_keys k USING unnest($4::bigint[], $5::text[]) AS a(user_id, key)
        WHERE k.user_id = a.user_id AND k.key = a.key`,
      [
        done.map((o) => o.userId),
        done.map((o) => o.key),
        done.map((o) => JSON.stringify(o.response)),
        abandoned.map((o) => o.userId),
        abandoned.map((o) => o.key),
      ],
    );
  }

  async complete(tx: EntityManager, userId: string, key: string, response: unknown): Promise<void> {
    await sql(tx, `UPDATE idempotency_keys SET response = $3 WHERE user_id = $1 AND key = $2`, [
      userId,
      key,
      JSON.stringify(response),
    ]);
  }
}
