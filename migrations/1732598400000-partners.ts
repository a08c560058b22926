import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payment partners, seeded from config/partners.json at start-up. A partner that leaves the
 * configuration is marked inactive, never deleted: deposits and withdrawals keep pointing at it.
 * webhook_secrets is a list so a secret can be rotated (any of them verifies a webhook).
 */
export class Partners1732598400000 implements MigrationInterface {
  name = 'Partners1732598400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE partners (
        id              text PRIMARY KEY,
        name            text NOT NULL,
        service         text NOT NULL,
        country         text NOT NULL,
        currencies      text[] NOT NULL,
        adapter         text NOT NULL,
        status          text NOT NULL DEFAULT 'active',
        webhook_secrets text[] NOT NULL DEFAULT '{}',
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT partners_status_known CHECK (status IN ('active', 'inactive')),
        CONSTRAINT partners_currencies_present CHECK (cardinality(currencies) > 0)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE partners`);
  }
}
