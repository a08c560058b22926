import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The lock of a posting that already knows what it will find. The posting queue keeps the state
 * its last commit left each account in; a posting whose accounts it knows applies itself to that
 * state at once and sends its lock, writes and COMMIT together, in one round trip
 * (src/modules/ledger/posting-queue.ts). Its lock (LedgerService.lockExpected: rows in id order, like
 * every lock of accounts) calls `ledger_not_as_expected` when any account is not exactly as
 * expected (balance, pending amounts, version, flags, or its owner's state and channel: what the
 * ledger's checks and announcements read), which fails the statement, and so the transaction,
 * with SQLSTATE CS001. The error's DETAIL is a JSON array of those accounts as they were found
 * (numbers as text), so the posting can be applied again to what is there; a missing account
 * gives no DETAIL.
 */
export class LedgerExpectedLock1733203200000 implements MigrationInterface {
  name = 'LedgerExpectedLock1733203200000';

  async up(db: QueryRunner): Promise<void> {
    // Called only when something is not as expected: the lock and the comparison are plain SQL
    // (src/modules/ledger/ledger.service.ts, LOCK_EXPECTED), cheaper than a loop in plpgsql.
    await db.query(`
      CREATE FUNCTION ledger_not_as_expected(moved jsonb, missing boolean) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        IF missing THEN
          RAISE EXCEPTION 'an expected account does not exist' USING ERRCODE = 'CS001';
        END IF;
        RAISE EXCEPTION '% accounts are not as expected', jsonb_array_length(moved)
          USING ERRCODE = 'CS001', DETAIL = moved::text;
      END $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION ledger_not_as_expected(jsonb, boolean)`);
  }
}
