// The lock of accounts whose state the caller knows (posting-queue.ts, known-states.ts): the same
// locks in the same order as LedgerService.lock, and a failure (ledger_not_as_expected, migration
// LedgerExpectedLock, SQLSTATE CS001) when any account is missing or not as given, saying how
// those it found moved on are.
import type { EntityManager } from 'typeorm';
import { pgArray } from '../../core/database/pg-array.js';
import { prepared, send } from '../../core/database/sql.js';
import { databaseErrorOf, sqlStateOf } from '../../core/database/transactions.js';
import type { LockedAccount } from './ledger.types.js';

/**
 * LOCK_ACCOUNTS for accounts whose state the caller gives: fails (ledger_not_as_expected, migration
 * LedgerExpectedLock) when one is missing or not as given, with those found moved on.
 */
const LOCK_EXPECTED = prepared(
  'ledger_lock_expected',
  `WITH expected AS (
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
                            $6::boolean[], $7::boolean[], $8::text[], $9::text[])
                  AS e(id, version, balance, pending_debit, pending_credit, is_active, is_locked, owner_state, owner_channel)
     ), locked AS MATERIALIZED (
       SELECT a.id, a.version, a.balance, a.pending_debit, a.pending_credit, a.is_active, a.is_locked,
              (SELECT u.state FROM users u WHERE u.id = a.owner_user_id) AS owner_state,
              (SELECT u.channel FROM users u WHERE u.id = a.owner_user_id) AS owner_channel
         FROM accounts a
        WHERE a.id = ANY($1::bigint[])
        ORDER BY a.id
          FOR UPDATE OF a
     ), moved AS MATERIALIZED (
       SELECT l.* FROM locked l JOIN expected e USING (id)
        WHERE (l.version, l.balance, l.pending_debit, l.pending_credit, l.is_active, l.is_locked, l.owner_state, l.owner_channel)
              IS DISTINCT FROM
              (e.version, e.balance, e.pending_debit, e.pending_credit, e.is_active, e.is_locked, e.owner_state, e.owner_channel)
     ), missing AS (
       SELECT (SELECT count(*) FROM locked) <> cardinality($1::bigint[]) AS missing
     )
     SELECT ledger_not_as_expected(
              (SELECT jsonb_agg(jsonb_build_object(
                        'id', id::text, 'version', version::text, 'balance', balance::text,
                        'pending_debit', pending_debit::text, 'pending_credit', pending_credit::text,
                        'is_active', is_active, 'is_locked', is_locked, 'owner_state', owner_state,
                        'owner_channel', owner_channel)) FROM moved),
              missing)
       FROM missing
      WHERE missing OR EXISTS (SELECT 1 FROM moved)`,
);

/** SQLSTATE of ledger_not_as_expected: an account is not as the caller expected. */
const NOT_AS_EXPECTED = 'CS001';

/** What of an account others may change: what lockExpected() compares. */
export type AccountMoves = Pick<
  LockedAccount,
  | 'id'
  | 'version'
  | 'balance'
  | 'pendingDebit'
  | 'pendingCredit'
  | 'isActive'
  | 'isLocked'
  | 'ownerState'
  | 'ownerChannel'
>;

/**
 * The accounts lockExpected() found moved on, as it found them, when `error` is its failure: an
 * empty list when it does not say (an account missing), undefined when `error` is something else.
 */
export function movedAccountsOf(error: unknown): AccountMoves[] | undefined {
  if (sqlStateOf(error) !== NOT_AS_EXPECTED) return undefined;
  const detail = databaseErrorOf(error)?.detail;
  if (!detail) return [];
  const rows = JSON.parse(detail) as {
    id: string;
    version: string;
    balance: string;
    pending_debit: string;
    pending_credit: string;
    is_active: boolean;
    is_locked: boolean;
    owner_state: string | null;
    owner_channel: string | null;
  }[];
  return rows.map((row) => ({
    id: row.id,
    version: BigInt(row.version),
    balance: BigInt(row.balance),
    pendingDebit: BigInt(row.pending_debit),
    pendingCredit: BigInt(row.pending_credit),
    isActive: row.is_active,
    isLocked: row.is_locked,
    ownerState: row.owner_state,
    ownerChannel: row.owner_channel,
  }));
}

/** Sends the lock of `accounts` as given (sql.ts send(): not awaited; its failure is the transaction's). */
export function lockExpected(tx: EntityManager, accounts: readonly LockedAccount[]): Promise<unknown> {
  return send(tx, LOCK_EXPECTED, [
    pgArray(accounts.map((a) => a.id)),
    pgArray(accounts.map((a) => a.version)),
    pgArray(accounts.map((a) => a.balance)),
    pgArray(accounts.map((a) => a.pendingDebit)),
    pgArray(accounts.map((a) => a.pendingCredit)),
    pgArray(accounts.map((a) => a.isActive)),
    pgArray(accounts.map((a) => a.isLocked)),
    pgArray(accounts.map((a) => a.ownerState)),
    pgArray(accounts.map((a) => a.ownerChannel)),
  ]);
}
