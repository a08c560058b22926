// The one statement that writes what the ledger applied in memory: journals (in order, so receipt
// numbers follow it), their entries and fees, the holds placed, taken from or released (inserted
// or updated to their final state), and the accounts' final balances. Data-modifying CTEs of one
// statement cannot see each other's rows, so everything is written in its final state: a hold
// placed and partly captured in the same transaction is inserted as it ends.
import type { EntityManager } from 'typeorm';
import { pgArray } from '../../core/database/pg-array.js';
import { prepared, sql } from '../../core/database/sql.js';
import type { AppliedPosting, HoldState, LedgerChange, LockedAccount } from './ledger.types.js';

const WRITE_LEDGER = prepared(
  'ledger_write',
  `WITH input AS (
       SELECT j.ord, j.type, j.description, j.initiated_by, j.metadata,
              nextval(pg_get_serial_sequence('journals', 'id')) AS id
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[])
              WITH ORDINALITY AS j(type, description, initiated_by, metadata, ord)
     ), journal AS (
       INSERT INTO journals (id, receipt_code, type, description, initiated_by, metadata)
       SELECT id, 'RCP-' || extract(year FROM now() AT TIME ZONE 'UTC')::int || '-' || id, type, description, initiated_by, metadata
         FROM input ORDER BY ord
       RETURNING id, receipt_code, created_at
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
       INSERT INTO holds (account_id, currency, amount, remaining, reference, status, placed_version, released_version, journal_id, resolved_at)
       SELECT h.account_id, h.currency, h.amount, h.remaining, h.reference, h.status, h.placed_version, h.released_version,
              input.id, CASE WHEN h.status = 'held' THEN NULL ELSE now() END
         FROM unnest($18::bigint[], $19::text[], $20::bigint[], $21::bigint[], $22::text[], $23::text[], $24::bigint[], $25::bigint[], $26::int[])
              AS h(account_id, currency, amount, remaining, reference, status, placed_version, released_version, journal)
         LEFT JOIN input ON input.ord = h.journal
     ), resolved AS (
       UPDATE holds SET remaining = h.remaining, status = h.status, released_version = h.released_version,
              journal_id = coalesce(input.id, holds.journal_id),
              resolved_at = CASE WHEN h.status = 'held' THEN NULL ELSE coalesce(holds.resolved_at, now()) END
         FROM unnest($27::bigint[], $28::bigint[], $29::text[], $30::bigint[], $31::int[])
              AS h(id, remaining, status, released_version, journal)
         LEFT JOIN input ON input.ord = h.journal
        WHERE holds.id = h.id
     ), balances AS (
       UPDATE accounts SET balance = b.balance, pending_debit = b.pending_debit, version = b.version,
              updated_at = now(), last_transaction_at = now()
         FROM unnest($32::bigint[], $33::bigint[], $34::bigint[], $35::bigint[]) AS b(id, balance, version, pending_debit)
        WHERE accounts.id = b.id
     )
     SELECT input.ord, journal.id, journal.receipt_code, journal.created_at
       FROM journal JOIN input USING (id) ORDER BY input.ord`,
);

export interface WrittenJournal {
  id: string;
  receiptCode: string;
  createdAt: Date;
}

const isPosting = (change: LedgerChange): change is AppliedPosting => 'request' in change;

/** Writes `changes` in one round trip; returns the journals of its postings, in order. */
export async function writeLedgerChanges(
  tx: EntityManager,
  changes: readonly LedgerChange[],
): Promise<WrittenJournal[]> {
  const postings = changes.filter(isPosting);
  const ordOf = new Map<AppliedPosting, number>(postings.map((p, i) => [p, i + 1]));
  const journals = postings.map((p) => p.request);
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

  const { rows } = await sql<{ ord: string; id: string; receipt_code: string; created_at: Date }>(tx, WRITE_LEDGER, [
    pgArray(journals.map((j) => j.type)),
    pgArray(journals.map((j) => j.description)),
    pgArray(journals.map((j) => j.initiatedBy ?? null)),
    pgArray(journals.map((j) => JSON.stringify(j.metadata ?? {}))),
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
  ]);
  return rows.map((row) => ({ id: String(row.id), receiptCode: row.receipt_code, createdAt: row.created_at }));
}
