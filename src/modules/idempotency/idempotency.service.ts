// Idempotency keys of money-moving requests (contract section 3). A key is claimed in the same
// transaction as the money moves: a concurrent request with the same key waits on the unique index
// until the first commits, then replays its stored response. Same key, other body: refused.
import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { databaseErrorOf } from '../../core/database/transactions.js';
import { prepared, send, sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';

const INSERT_KEYS = prepared(
  'idempotency_insert',
  `INSERT INTO idempotency_keys (user_id, key, request_type, request_hash)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bytea[]) AS c(user_id, key, request_type, request_hash)
        ORDER BY user_id, key
       ON CONFLICT (user_id, key) DO NOTHING RETURNING user_id, key`,
);

/** INSERT_KEYS for keys taken to be unused: one that is not fails the statement (23505). */
const INSERT_UNUSED_KEYS = prepared(
  'idempotency_insert_unused',
  `INSERT INTO idempotency_keys (user_id, key, request_type, request_hash)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bytea[]) AS c(user_id, key, request_type, request_hash)
        ORDER BY user_id, key`,
);

const SETTLE_KEYS = prepared(
  'idempotency_settle',
  `WITH done AS (
         UPDATE idempotency_keys k SET response = d.response
           FROM unnest($1::bigint[], $2::text[], $3::json[]) AS d(user_id, key, response)
          WHERE k.user_id = d.user_id AND k.key = d.key
       )
       DELETE FROM idempotency_keys k USING unnest($4::bigint[], $5::text[]) AS a(user_id, key)
        WHERE k.user_id = a.user_id AND k.key = a.key`,
);

/**
 * What claiming a key gave: fresh (go ahead, then settle it), a replay of the response stored for
 * it, a refusal (the key was used for another request), or a repeat of an earlier claim of the
 * same call (answer it as that one is answered).
 */
export type Claim<T = unknown> =
  | { fresh: true }
  | { fresh: false; response: T }
  | { fresh: false; refused: DomainError }
  | { fresh: false; sameAs: number };

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

/** The failure of claimUnused() when a key it claimed was not unused. */
export function isKeyTaken(error: unknown): boolean {
  const failure = databaseErrorOf(error);
  return failure?.code === '23505' && failure.constraint === 'idempotency_keys_pkey';
}

/** Keys are honoured for 24 hours; older ones count as unused. */
const WINDOW_HOURS = 24;
/** Keys are deleted a day after their window, so a late retry does not read as new. */
const RETENTION_HOURS = WINDOW_HOURS + 24;

/** The hash of a request: canonical JSON (sorted keys) of its normalized fields. */
export function requestHash(request: Record<string, unknown>): Buffer {
  const canonical = JSON.stringify(
    Object.keys(request)
      .sort()
      .map((key) => [key, request[key]]),
  );
  return createHash('sha256').update(canonical).digest();
}

const FRESH: Claim<never> = { fresh: true };

/**
 * The one protocol, for a request alone or a batch of them: claim() the keys at the start of the
 * transaction, do the work of the fresh ones, settle() every claimed key before commit (its
 * response, or given up when the request was refused).
 */
@Injectable()
export class IdempotencyService {
  private readonly logger = new Logger(IdempotencyService.name);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Claims `claims` (undefined: a request without a key, always fresh) in one statement, in
   * (user, key) order so that concurrent claimers never wait on each other in a cycle; a key used
   * before is then resolved on its own: replayed, refused, or renewed when it expired or its
   * request was given up.
   */
  async claim<T>(tx: EntityManager, claims: readonly (KeyClaim | undefined)[]): Promise<Claim<T>[]> {
    const keyed = claims.filter((claim): claim is KeyClaim => claim !== undefined);
    const inserted = await this.insertNew(tx, keyed);
    const first = new Map<string, number>();
    const results: Claim<T>[] = [];
    for (const [i, claim] of claims.entries()) {
      if (!claim) {
        results.push(FRESH);
        continue;
      }
      const id = keyOf(claim.userId, claim.key);
      const earlier = first.get(id);
      if (earlier !== undefined) {
        results.push({ fresh: false, sameAs: earlier });
        continue;
      }
      first.set(id, i);
      results.push(inserted.has(id) ? FRESH : await this.resolveUsed<T>(tx, claim));
    }
    return results;
  }

  /**
   * claim() for a request that runs alone: undefined to go ahead (then settle the key), or the
   * stored response to replay; a key used for another request is refused (thrown).
   */
  async claimAlone<T>(tx: EntityManager, claim: KeyClaim | undefined): Promise<{ response: T } | undefined> {
    if (!claim) return undefined;
    const [claimed] = await this.claim<T>(tx, [claim]);
    if (claimed.fresh) return undefined;
    if ('refused' in claimed) throw claimed.refused;
    if ('response' in claimed) return { response: claimed.response };
    throw new Error('one claim cannot repeat another');
  }

  /**
   * claim() for keys taken to be unused (the first use of a key is by far the most common), sent
   * at once (sql.ts send()) rather than awaited. A key used before, or being claimed by a
   * transaction not yet committed, fails the statement and so the transaction, with a unique
   * violation that isKeyTaken() recognizes; the caller then runs again with claim().
   */
  claimUnused(tx: EntityManager, claims: readonly (KeyClaim | undefined)[]): Promise<unknown> {
    const keyed = claims.filter((claim): claim is KeyClaim => claim !== undefined);
    if (keyed.length === 0) return Promise.resolve();
    return send(tx, INSERT_UNUSED_KEYS, [
      keyed.map((c) => c.userId),
      keyed.map((c) => c.key),
      keyed.map((c) => c.requestType),
      keyed.map((c) => c.hash),
    ]);
  }

  /**
   * Stores the responses of claimed keys and drops the claims of refused requests, in one
   * statement, sent at once (sql.ts send()): nothing need await it, its failure is the transaction's.
   */
  settle(tx: EntityManager, outcomes: readonly KeyOutcome[]): Promise<unknown> {
    if (outcomes.length === 0) return Promise.resolve();
    const done = outcomes.filter((o): o is KeyOutcome & { response: unknown } => 'response' in o);
    const abandoned = outcomes.filter((o) => 'abandoned' in o);
    return send(tx, SETTLE_KEYS, [
      done.map((o) => o.userId),
      done.map((o) => o.key),
      done.map((o) => JSON.stringify(o.response)),
      abandoned.map((o) => o.userId),
      abandoned.map((o) => o.key),
    ]);
  }

  /** Deletes the keys past their retention (the `idempotency.purge` job); resolves to how many. */
  async purgeExpired(): Promise<number> {
    const { count } = await sql(
      this.db,
      `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)`,
      [RETENTION_HOURS],
    );
    if (count > 0) this.logger.log({ purged: count }, 'idempotency keys past retention deleted');
    return count;
  }

  /** Inserts the keys not used before; returns those inserted now. */
  private async insertNew(tx: EntityManager, claims: readonly KeyClaim[]): Promise<Set<string>> {
    if (claims.length === 0) return new Set();
    const { rows } = await sql<{ user_id: string; key: string }>(tx, INSERT_KEYS, [
      claims.map((c) => c.userId),
      claims.map((c) => c.key),
      claims.map((c) => c.requestType),
      claims.map((c) => c.hash),
    ]);
    return new Set(rows.map((r) => keyOf(String(r.user_id), r.key)));
  }

  /** A key that exists (committed by another transaction: the insert waited for it). */
  private async resolveUsed<T>(tx: EntityManager, claim: KeyClaim): Promise<Claim<T>> {
    const { userId, key, requestType, hash } = claim;
    const { rows } = await sql<{ request_type: string; request_hash: Buffer; response: T | null; expired: boolean }>(
      tx,
      `SELECT request_type, request_hash, response, created_at < now() - make_interval(hours => $3) AS expired
         FROM idempotency_keys WHERE user_id = $1 AND key = $2 FOR UPDATE`,
      [userId, key, WINDOW_HOURS],
    );
    const stored = rows[0];
    if (!stored || stored.expired || stored.response === null) {
      // Expired, given up, or deleted since the insert looked: the key is this request's now.
      await sql(
        tx,
        `INSERT INTO idempotency_keys (user_id, key, request_type, request_hash) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, key) DO UPDATE
           SET request_type = EXCLUDED.request_type, request_hash = EXCLUDED.request_hash, response = NULL, created_at = now()`,
        [userId, key, requestType, hash],
      );
      return FRESH;
    }
    if (stored.request_type !== requestType || !stored.request_hash.equals(hash)) {
      const refused = new DomainError(
        'IDEMPOTENCY_CONFLICT',
        'idempotency_key was already used for a different request',
        {
          field: 'idempotency_key',
        },
      );
      return { fresh: false, refused };
    }
    return { fresh: false, response: stored.response };
  }
}
