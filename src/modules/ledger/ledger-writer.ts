// The one statement that writes what the ledger applied in memory: journals (under the ids and
// receipt codes they were given ahead, journal-ids.ts), their entries and fees, the holds placed,
// taken from or released (inserted or updated to their final state), and the accounts' final
// balances. Data-modifying CTEs of one statement cannot see each other's rows, so everything is
// written in its final state: a hold placed and partly captured in the same transaction is
// inserted as it ends. Entries are stamped with the clock at insertion (clock_timestamp()), under
// the account locks, so on every account their times run in the same order as their versions
// (statements cut periods by time). The statement is sent, not awaited (sql.ts send()): its failure
// is the transaction's. The updates name their rows by `id = ANY(...)` as well as by the join: a
// prepared statement's plan cannot know how few rows an unnest gives, and without it PostgreSQL
// hash-joins a scan of the whole table (0.1 ms per write at 700 accounts, growing with the table).
import type { EntityManager } from 'typeorm';
import { pgArray } from '../../core/database/pg-array.js';
import { prepared, send } from '../../core/database/sql.js';
import type { AppliedPosting, HoldState, LedgerChange, LockedAccount } from './ledger.types.js';

const WRITE_LEDGER = prepared(
  'ledger_write',
  `WITH input AS (
       SELECT j.ord, j.type, j.description, j.initiated_by, j.metadata, j.id, j.receipt_code
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[], $36::bigint[], $37::text[])
              WITH ORDINALITY AS j(type, description, initiated_by, metadata, id, receipt_code, ord)
     ), journal AS (
       INSERT INTO journals (id, receipt_code, type, description, initiated_by, metadata, created_at)
       SELECT id, receipt_code, type, description, initiated_by, metadata, $38::timestamptz
         FROM input ORDER BY ord
       RETURNING id
     ), posted AS (
       INSERT INTO entries (journal_id, account_id, currency, direction, amount, balance_after, account_version, description, created_at)
       SELECT input.id, e.account_id, e.currency, e.direction, e.amount, e.balance_after, e.version, e.description, clock_timestamp()
         FROM unnest($5::int[], $6::bigint[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[])
              WITH ORDINALITY AS e(journal, account_id, currency, direction, amount, balance_after, version, description, ord)
         JOIN input ON input.ord = e.journal
        ORDER BY e.ord
     ), charged AS (
       INSERT INTO fees (journal_id, fee_type, amount, currency, account_id)
       SELECT input.id, f.fee_type, f.amount, f.currency, f.account_id
         FROM unnest($13::int[], $14::text[], $15::bigint[], $16::text[], $17::bigint[])
              AS f(journal, fee_type, amount, currency, account_id)
         JOIN input ON input.ord = f.journal
     ), placed AS (
       INSERT INTO holds (account_id, currency, direction, amount, remaining, reference, status, placed_version, released_version, journal_id, resolved_at)
       SELECT h.account_id, h.currency, h.direction, h.amount, h.remaining, h.reference, h.status, h.placed_version, h.released_version,
              input.id, CASE WHEN h.status = 'held' THEN NULL ELSE now() END
         FROM unnest($18::bigint[], $19::text[], $39::text[], $20::bigint[], $21::bigint[], $22::text[], $23::text[], $24::bigint[], $25::bigint[], $26::int[])
              AS h(account_id, currency, direction, amount, remaining, reference, status, placed_version, released_version, journal)
         LEFT JOIN input ON input.ord = h.journal
     ), resolved AS (
       UPDATE holds SET remaining = h.remaining, status = h.status, released_version = h.released_version,
              journal_id = coalesce(input.id, holds.journal_id),
              resolved_at = CASE WHEN h.status = 'held' THEN NULL ELSE coalesce(holds.resolved_at, now()) END
         FROM unnest($27::bigint[], $28::bigint[], $29::text[], $30::bigint[], $31::int[])
              AS h(id, remaining, status, released_version, journal)
         LEFT JOIN input ON input.ord = h.journal
        WHERE holds.id = h.id AND holds.id = ANY($27::bigint[])
     ), balances AS (
       UPDATE accounts SET balance = b.balance, pending_debit = b.pending_debit, pending_credit = b.pending_credit,
              version = b.version, updated_at = now(), last_transaction_at = now()
         FROM unnest($32::bigint[], $33::bigint[], $34::bigint[], $35::bigint[], $40::bigint[])
              AS b(id, balance, version, pending_debit, pending_credit)
        WHERE accounts.id = b.id AND accounts.id = ANY($32::bigint[])
     )
     SELECT 1`,
);

/** A journal as it will be written: its id, receipt code and time, given before the write. */
export interface JournalHeader {
  id: bigint;
  receiptCode: string;
  createdAt: Date;
}

/** The receipt code of journal `id`: RCP-<year of createdAt, UTC>-<id>. */
export const receiptCodeOf = (id: bigint, createdAt: Date): string => `RCP-${createdAt.getUTCFullYear()}-${id}`;

const isPosting = (change: LedgerChange): change is AppliedPosting => 'request' in change;

/**
 * Sends the write of `changes` (see the top of this file), each posting's journal under its header
 * in `journals`, in order; resolves once PostgreSQL has answered. Not async: anything that keeps
 * the statement from being sent throws here.
 */
export function writeLedgerChanges(
  tx: EntityManager,
  changes: readonly LedgerChange[],
  journals: readonly JournalHeader[],
): Promise<unknown> {
  const postings = changes.filter(isPosting);
  if (journals.length !== postings.length) {
    throw new Error(`${postings.length} postings but ${journals.length} journals`);
  }
  const createdAt = journals[0]?.createdAt ?? new Date();
  const ordOf = new Map<AppliedPosting, number>(postings.map((p, i) => [p, i + 1]));
  const requests = postings.map((p) => p.request);
  const entries = postings.flatMap((p, i) =>
    p.entries.map((entry, j) => ({ entry, journal: i + 1, line: p.request.lines[j] })),
  );
  const fees = postings.flatMap((p, i) => (p.request.fees ?? []).map((fee) => ({ fee, journal: i + 1 })));

  const holds = new Map<string, HoldState>();
  for (const change of changes) {
    for (const hold of isPosting(change) ? change.holds : [change.hold]) holds.set(hold.reference, hold);
  }
  const placed = [...holds.values()].filter((h) => h.id === undefined);
  const updated = [...holds.values()].filter((h) => h.id !== undefined);
  const journalOf = (hold: HoldState) => (hold.capturedBy ? (ordOf.get(hold.capturedBy) ?? null) : null);

  const final = new Map<string, LockedAccount>();
  for (const change of changes) {
    if (isPosting(change)) for (const [id, account] of change.accounts) final.set(id, account);
    else final.set(change.account.id, change.account);
  }
  const balances = [...final.values()];

  return send(tx, WRITE_LEDGER, [
    pgArray(requests.map((j) => j.type)),
    pgArray(requests.map((j) => j.description)),
    pgArray(requests.map((j) => j.initiatedBy ?? null)),
    pgArray(requests.map((j) => JSON.stringify(j.metadata ?? {}))),
    pgArray(entries.map((e) => e.journal)),
    pgArray(entries.map((e) => e.entry.accountId)),
    pgArray(entries.map((e) => e.entry.currency)),
    pgArray(entries.map((e) => e.entry.direction)),
    pgArray(entries.map((e) => e.entry.amount)),
    pgArray(entries.map((e) => e.entry.balanceAfter)),
    pgArray(entries.map((e) => e.entry.version)),
    pgArray(entries.map((e) => e.line.description)),
    pgArray(fees.map((f) => f.journal)),
    pgArray(fees.map((f) => f.fee.feeType)),
    pgArray(fees.map((f) => f.fee.amount)),
    pgArray(fees.map((f) => f.fee.currency)),
    pgArray(fees.map((f) => f.fee.accountId)),
    pgArray(placed.map((h) => h.accountId)),
    pgArray(placed.map((h) => h.currency)),
    pgArray(placed.map((h) => h.amount)),
    pgArray(placed.map((h) => h.remaining)),
    pgArray(placed.map((h) => h.reference)),
    pgArray(placed.map((h) => h.status)),
    pgArray(placed.map((h) => h.placedVersion)),
    pgArray(placed.map((h) => h.releasedVersion ?? null)),
    pgArray(placed.map(journalOf)),
    pgArray(updated.map((h) => h.id!)),
    pgArray(updated.map((h) => h.remaining)),
    pgArray(updated.map((h) => h.status)),
    pgArray(updated.map((h) => h.releasedVersion ?? null)),
    pgArray(updated.map(journalOf)),
    pgArray(balances.map((a) => a.id)),
    pgArray(balances.map((a) => a.balance)),
    pgArray(balances.map((a) => a.version)),
    pgArray(balances.map((a) => a.pendingDebit)),
    pgArray(journals.map((j) => j.id)),
    pgArray(journals.map((j) => j.receiptCode)),
    createdAt,
    pgArray(placed.map((h) => h.direction)),
    pgArray(balances.map((a) => a.pendingCredit)),
  ]);
}
