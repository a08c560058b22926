import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The lock of a posting that already knows what it will find. The posting queue keeps the state
 * its last commit left each account in; a posting whose accounts it knows applies itself to that
 * state at once and sends its lock, writes and COMMIT together, in one round trip
 * (src/modules/ledger/posting-queue.ts). `ledger_lock_expected` takes the lock (rows in id order,
 * like every lock of accounts) and fails the statement, and so the transaction, with SQLSTATE
 * CS001 when any account is not exactly as expected: balance, pending amounts, version, flags, or
 * its owner's state and channel (what the ledger's checks and announcements read). The error's
 * DETAIL is a JSON array of those accounts as they were found (numbers as text), so the posting
 * can be applied again to what is there; a missing account gives no DETAIL.
 */
export class LedgerExpectedLock1733203200000 implements MigrationInterface {
  name = 'LedgerExpectedLock1733203200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION ledger_lock_expected(
        ids bigint[], versions bigint[], balances bigint[], pending_debits bigint[], pending_credits bigint[],
        actives boolean[], lockeds boolean[], owner_states text[], owner_channels text[]
      ) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        found_rows int := 0;
        moved jsonb := '[]';
        i int;
        a record;
      BEGIN
        FOR a IN
          SELECT acc.id, acc.version, acc.balance, acc.pending_debit, acc.pending_credit, acc.is_active, acc.is_locked,
                 u.state AS owner_state, u.channel AS owner_channel
            FROM accounts acc LEFT JOIN users u ON u.id = acc.owner_user_id
           WHERE acc.id = ANY(ids)
           ORDER BY acc.id
             FOR UPDATE OF acc
        LOOP
          found_rows := found_rows + 1;
          i := array_position(ids, a.id);
          IF (a.version, a.balance, a.pending_debit, a.pending_credit, a.is_active, a.is_locked, a.owner_state, a.owner_channel)
             IS DISTINCT FROM
             (versions[i], balances[i], pending_debits[i], pending_credits[i], actives[i], lockeds[i], owner_states[i], owner_channels[i])
          THEN
            moved := moved || jsonb_build_object(
              'id', a.id::text, 'version', a.version::text, 'balance', a.balance::text,
              'pending_debit', a.pending_debit::text, 'pending_credit', a.pending_credit::text,
              'is_active', a.is_active, 'is_locked', a.is_locked, 'owner_state', a.owner_state, 'owner_channel', a.owner_channel);
          END IF;
        END LOOP;
        IF found_rows <> cardinality(ids) THEN
          RAISE EXCEPTION 'an expected account does not exist' USING ERRCODE = 'CS001';
        END IF;
        IF jsonb_array_length(moved) > 0 THEN
          RAISE EXCEPTION '% of % accounts are not as expected', jsonb_array_length(moved), found_rows
            USING ERRCODE = 'CS001', DETAIL = moved::text;
        END IF;
      END $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(
      `DROP FUNCTION ledger_lock_expected(bigint[], bigint[], bigint[], bigint[], bigint[], boolean[], boolean[], text[], text[])`,
    );
  }
}
