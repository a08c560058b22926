import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Holds in both directions. A hold was funds set aside to leave an account (`pending_debit`, a
 * withdrawal or an order until it ends); a hold may now also be funds announced to arrive
 * (`pending_credit`): a deposit, from its request until its partner completes it (the credit
 * takes the hold) or it fails, expires or is cancelled (the hold is released). An account's
 * pending_debit is the sum of its held DR holds' `remaining`, its pending_credit that of its held
 * CR holds (checkLedger proves both); only pending_debit counts against the available balance.
 * Every hold before this one was a DR hold.
 */
export class PendingCredit1733289600000 implements MigrationInterface {
  name = 'PendingCredit1733289600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE holds ADD COLUMN direction text NOT NULL DEFAULT 'DR',
        ADD CONSTRAINT holds_direction_known CHECK (direction IN ('DR', 'CR'))`);
  }

  async down(db: QueryRunner): Promise<void> {
    // A CR hold would become a DR hold and set its amount aside from the balance: refuse.
    await db.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM holds WHERE direction = 'CR') THEN
          RAISE EXCEPTION 'holds in direction CR exist: release or capture them before reverting';
        END IF;
      END $$`);
    await db.query(`ALTER TABLE holds DROP COLUMN direction`);
  }
}
