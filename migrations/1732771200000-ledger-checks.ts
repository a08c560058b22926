import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The balance checks of the ledger, per statement instead of per entry row. The first version
 * ran a deferred row trigger for every entry as well as every journal, each with two queries: for
 * a transfer (one journal, three entries) eight queries at commit, all answering the same
 * question. Now:
 *
 * - every INSERT into entries checks, once per statement, that each journal it touched still
 *   balances in every currency (entries are only ever inserted, so a journal is balanced after
 *   every statement that writes it; the ledger writes a journal's entries in one statement);
 * - the deferred constraint trigger on journals stays and checks at commit, in one query, that
 *   the journal has entries and balances: a journal inserted without entries never commits.
 */
/** The same in both directions; only the function it runs changes. */
const JOURNALS_BALANCED = `
  CREATE CONSTRAINT TRIGGER journals_balanced AFTER INSERT ON journals
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_journal()`;

export class LedgerChecks1732771200000 implements MigrationInterface {
  name = 'LedgerChecks1732771200000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER entries_balanced ON entries`);
    await db.query(`DROP TRIGGER journals_balanced ON journals`);
    await db.query(`DROP FUNCTION ledger_check_journal()`);

    await db.query(`
      CREATE FUNCTION ledger_check_journal() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        total record;
        seen boolean := false;
      BEGIN
        FOR total IN
          SELECT currency, sum(CASE direction WHEN 'CR' THEN amount ELSE -amount END) AS net
            FROM entries WHERE journal_id = NEW.id GROUP BY currency
        LOOP
          seen := true;
          IF total.net <> 0 THEN
            RAISE EXCEPTION 'journal % does not balance in %', NEW.id, total.currency USING ERRCODE = 'check_violation';
          END IF;
        END LOOP;
        IF NOT seen THEN
          RAISE EXCEPTION 'journal % has no entries', NEW.id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await db.query(JOURNALS_BALANCED);

    await db.query(`
      CREATE FUNCTION ledger_check_entries() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        unbalanced record;
      BEGIN
        SELECT e.journal_id, e.currency INTO unbalanced
          FROM entries e
         WHERE e.journal_id IN (SELECT DISTINCT journal_id FROM inserted)
         GROUP BY e.journal_id, e.currency
        HAVING sum(CASE e.direction WHEN 'CR' THEN e.amount ELSE -e.amount END) <> 0
         LIMIT 1;
        IF FOUND THEN
          RAISE EXCEPTION 'journal % does not balance in %', unbalanced.journal_id, unbalanced.currency
            USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER entries_balanced AFTER INSERT ON entries
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_entries()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER entries_balanced ON entries`);
    await db.query(`DROP FUNCTION ledger_check_entries()`);
    await db.query(`DROP TRIGGER journals_balanced ON journals`);
    await db.query(`DROP FUNCTION ledger_check_journal()`);
    await db.query(`
      CREATE FUNCTION ledger_check_journal() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        journal bigint;
        unbalanced text;
      BEGIN
        IF TG_TABLE_NAME = 'journals' THEN journal := NEW.id; ELSE journal := NEW.journal_id; END IF;
        IF NOT EXISTS (SELECT 1 FROM entries WHERE journal_id = journal) THEN
          RAISE EXCEPTION 'journal % has no entries', journal USING ERRCODE = 'check_violation';
        END IF;
        SELECT currency INTO unbalanced FROM entries WHERE journal_id = journal
          GROUP BY currency HAVING sum(CASE direction WHEN 'CR' THEN amount ELSE -amount END) <> 0 LIMIT 1;
        IF unbalanced IS NOT NULL THEN
          RAISE EXCEPTION 'journal % does not balance in %', journal, unbalanced USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await db.query(JOURNALS_BALANCED);
    await db.query(`
      CREATE CONSTRAINT TRIGGER entries_balanced AFTER INSERT ON entries
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_journal()`);
  }
}
