// The baseline of the ledger bench: a transfer posted as ONE raw SQL statement (one round trip,
// its own transaction), sent with `pg` straight from the bench process. It writes what the
// service's posting writes (src/modules/ledger/ledger.service.ts, post(); keep them in step): the
// three accounts locked in id order, the journal with its receipt code, an entry per account with
// balance_after and version, the fee row and the new balances, under the same constraints and
// deferred checks. It does not write the idempotency key or the outbox events, and nobody is told:
// it is the floor of what PostgreSQL costs per transfer.
import pg from 'pg';

const POST_TRANSFER = `
  WITH locked AS (
    SELECT id, balance, version FROM accounts WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE
  ), next AS (
    SELECT l.account_id, l.direction, l.amount, l.ord,
           locked.balance + CASE l.direction WHEN 'CR' THEN l.amount ELSE -l.amount END AS balance_after,
           locked.version + 1 AS version
      FROM unnest($1::bigint[], $2::text[], $3::bigint[]) WITH ORDINALITY AS l(account_id, direction, amount, ord)
      JOIN locked ON locked.id = l.account_id
  ), journal AS (
    INSERT INTO journals (id, receipt_code, type, description, initiated_by, metadata)
    SELECT n, 'RCP-' || extract(year FROM now() AT TIME ZONE 'UTC')::int || '-' || n, 'TRANSACTION_TYPE_TRANSFER',
           'Transfer', $4, '{}'
      FROM (SELECT nextval(pg_get_serial_sequence('journals', 'id')) AS n) next_id
    RETURNING id, receipt_code, created_at
  ), posted AS (
    INSERT INTO entries (journal_id, account_id, currency, direction, amount, balance_after, account_version, description, created_at)
    SELECT journal.id, next.account_id, $5, next.direction, next.amount, next.balance_after, next.version, 'Transfer', clock_timestamp()
      FROM journal, next ORDER BY next.ord
  ), charged AS (
    INSERT INTO fees (journal_id, fee_type, amount, currency, account_id)
    SELECT journal.id, 'FEE_TYPE_PLATFORM', $6, $5, $7 FROM journal WHERE $6::bigint > 0
  ), balances AS (
    UPDATE accounts SET balance = next.balance_after, version = next.version, updated_at = now(), last_transaction_at = now()
      FROM next WHERE accounts.id = next.account_id
  )
  SELECT id, receipt_code, created_at FROM journal`;

/** A pool sending transfers as one statement each; `size` connections, like the service's pool. */
export function createRawLedger(databaseUrl, size) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: size });
  return {
    /** Posts `amount` + `fee` (minor units) from wallet `fromId` to `toId` and fee account `feeId`. */
    async transfer({ fromId, toId, feeId, userId, amount, fee, currency }) {
      const lines = [
        [fromId, 'DR', amount + fee],
        [toId, 'CR', amount],
        [feeId, 'CR', fee],
      ].filter((line) => line[2] > 0n);
      const { rows } = await pool.query(POST_TRANSFER, [
        lines.map((l) => l[0]),
        lines.map((l) => l[1]),
        lines.map((l) => l[2].toString()),
        userId,
        currency,
        fee.toString(),
        feeId,
      ]);
      return rows[0];
    },
    close: () => pool.end(),
  };
}
