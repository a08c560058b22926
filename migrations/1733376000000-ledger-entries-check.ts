import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The per-statement balance check of entries (LedgerChecks1732771200000) reads only the rows the
 * statement inserted, no longer every entry of the journals they touch. What the database
 * enforces is unchanged: after every INSERT into entries, each journal balances in every currency.
 * It balanced before the statement (a journal starts with no entries, and every earlier statement
 * was checked the same way; entries are never updated or deleted, entries_append_only), so it
 * balances after it exactly when the rows the statement added to it net to zero in each currency.
 * The deferred check at commit (journals_balanced: a journal has entries and balances) stays.
 *
 * The old check's index scan of entries was the largest single cost of the ledger's write
 * (0.13 ms of 0.61 per transfer, auto_explain at 1,000 users).
 */
/**
 * ledger_check_entries() refusing the statement when `unbalanced` (a query of `journal_id` and
 * `currency`, the statement's new rows being `inserted`) finds a journal that does not balance.
 */
const checkEntries = (unbalanced: string) => `
  CREATE OR REPLACE FUNCTION ledger_check_entries() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    unbalanced record;
  BEGIN
    ${unbalanced}
    IF FOUND THEN
      RAISE EXCEPTION 'journal % does not balance in %', unbalanced.journal_id, unbalanced.currency
        USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
  END $$`;

export class LedgerEntriesCheck1733376000000 implements MigrationInterface {
  name = 'LedgerEntriesCheck1733376000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      checkEntries(`
        SELECT journal_id, currency INTO unbalanced
          FROM inserted
         GROUP BY journal_id, currency
        HAVING sum(CASE direction WHEN 'CR' THEN amount ELSE -amount END) <> 0
         LIMIT 1;`),
    );
  }

  /** Back to LedgerChecks1732771200000's check, which reads every entry of the touched journals. */
  async down(db: QueryRunner): Promise<void> {
    await db.query(
      checkEntries(`
        SELECT e.journal_id, e.currency INTO unbalanced
          FROM entries e
         WHERE e.journal_id IN (SELECT DISTINCT journal_id FROM inserted)
         GROUP BY e.journal_id, e.currency
        HAVING sum(CASE e.direction WHEN 'CR' THEN e.amount ELSE -e.amount END) <> 0
         LIMIT 1;`),
    );
  }
}
