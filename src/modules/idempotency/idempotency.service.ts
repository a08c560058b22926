// Idempotency keys of money-moving requests (contract section 3). A key is claimed in the same
// transaction as the money moves: a concurrent request with the same key waits on the unique index
// until the first commits, then replays its stored response. Same key, other body: refused.
import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';

export type Claim<T> = { fresh: true } | { fresh: false; response: T };

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

  async complete(tx: EntityManager, userId: string, key: string, response: unknown): Promise<void> {
    await sql(tx, `UPDATE idempotency_keys SET response = $3 WHERE user_id = $1 AND key = $2`, [
      userId,
      key,
      JSON.stringify(response),
    ]);
  }
}
