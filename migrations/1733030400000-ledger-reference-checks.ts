import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The references of entries and fees (their journal, and an account in their currency) checked
 * once per INSERT statement instead of by a foreign key per row. A foreign key runs a lookup for
 * every row: a transfer writes three entries and a fee, eight lookups, and in bench/ledger they
 * were about a fifth of PostgreSQL's CPU per transfer (the posting writes 64 transfers in one
 * statement). The statement triggers check every row of an INSERT with one anti-join each, in
 * the entries trigger that already checks that journals balance.
 *
 * A foreign key also keeps the referenced row from going away. Journals are append-only already
 * (no UPDATE, no DELETE); accounts now are too, as far as references go: never deleted, their id
 * and currency never changed (an account is closed with is_active). TRUNCATE, which no row
 * trigger sees, is refused on the ledger's tables.
 */
// Correlated EXISTS in the select list: an index probe per row whatever the planner thinks of the
// transition table's size (as anti-joins it might hash a whole table instead).
const REFERENCED = `
  SELECT i.id, i.journal_id, i.account_id, i.currency,
         EXISTS (SELECT 1 FROM journals j WHERE j.id = i.journal_id) AS has_journal,
         EXISTS (SELECT 1 FROM accounts a WHERE a.id = i.account_id AND a.currency = i.currency) AS has_account
    FROM inserted i`;

/** Raises for the first row of `inserted` (entries or fees) whose journal or account is missing. */
const checkReferences = (table: 'entries' | 'fees') => `
  SELECT * INTO orphan FROM (${REFERENCED}) AS r WHERE NOT (r.has_journal AND r.has_account) LIMIT 1;
  IF FOUND AND NOT orphan.has_journal THEN
    RAISE EXCEPTION '${table} row % refers to journal %, which does not exist', orphan.id, orphan.journal_id
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '${table}_journal_id_fkey';
  ELSIF FOUND THEN
    RAISE EXCEPTION '${table} row % refers to account % in %, which does not exist', orphan.id, orphan.account_id, orphan.currency
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '${table}_account_fkey';
  END IF;`;

const BALANCED = `
  SELECT e.journal_id, e.currency INTO unbalanced
    FROM entries e
   WHERE e.journal_id IN (SELECT DISTINCT journal_id FROM inserted)
   GROUP BY e.journal_id, e.currency
  HAVING sum(CASE e.direction WHEN 'CR' THEN e.amount ELSE -e.amount END) <> 0
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal % does not balance in %', unbalanced.journal_id, unbalanced.currency
      USING ERRCODE = 'check_violation';
  END IF;`;

const LEDGER_TABLES = ['accounts', 'journals', 'entries', 'fees'];

export class LedgerReferenceChecks1733030400000 implements MigrationInterface {
  name = 'LedgerReferenceChecks1733030400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE OR REPLACE FUNCTION ledger_check_entries() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        orphan record;
        unbalanced record;
      BEGIN
        ${checkReferences('entries')}
        ${BALANCED}
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE FUNCTION ledger_check_fees() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        orphan record;
      BEGIN
        ${checkReferences('fees')}
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER fees_references AFTER INSERT ON fees
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_fees()`);
    for (const constraint of ['entries_journal_id_fkey', 'entries_account_fkey']) {
      await db.query(`ALTER TABLE entries DROP CONSTRAINT ${constraint}`);
    }
    for (const constraint of ['fees_journal_id_fkey', 'fees_account_fkey']) {
      await db.query(`ALTER TABLE fees DROP CONSTRAINT ${constraint}`);
    }

    await db.query(`
      CREATE FUNCTION ledger_account_kept() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' OR NEW.id <> OLD.id OR NEW.currency <> OLD.currency THEN
          RAISE EXCEPTION 'accounts are never deleted, nor their id or currency changed (close one with is_active)'
            USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(`
      CREATE TRIGGER accounts_kept BEFORE DELETE OR UPDATE OF id, currency ON accounts
        FOR EACH ROW EXECUTE FUNCTION ledger_account_kept()`);
    await db.query(`
      CREATE FUNCTION ledger_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is never truncated', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
      END $$`);
    for (const table of LEDGER_TABLES) {
      await db.query(`
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
          FOR EACH STATEMENT EXECUTE FUNCTION ledger_no_truncate()`);
    }
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of LEDGER_TABLES) await db.query(`DROP TRIGGER ${table}_no_truncate ON ${table}`);
    await db.query(`DROP FUNCTION ledger_no_truncate()`);
    await db.query(`DROP TRIGGER accounts_kept ON accounts`);
    await db.query(`DROP FUNCTION ledger_account_kept()`);
    for (const table of ['entries', 'fees']) {
      await db.query(
        `ALTER TABLE ${table} ADD CONSTRAINT ${table}_journal_id_fkey FOREIGN KEY (journal_id) REFERENCES journals (id)`,
      );
      await db.query(`
        ALTER TABLE ${table} ADD CONSTRAINT ${table}_account_fkey
          FOREIGN KEY (account_id, currency) REFERENCES accounts (id, currency)`);
    }
    await db.query(`DROP TRIGGER fees_references ON fees`);
    await db.query(`DROP FUNCTION ledger_check_fees()`);
    await db.query(`
      CREATE OR REPLACE FUNCTION ledger_check_entries() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        unbalanced record;
      BEGIN
        ${BALANCED}
        RETURN NULL;
      END $$`);
  }
}
