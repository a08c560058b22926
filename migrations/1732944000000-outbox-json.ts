import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outbox payloads as json, not jsonb. Nothing queries inside them; they are written once and read
 * back whole for replay. jsonb paid for a conversion on every insert and every read, and it
 * reorders keys, so a replayed event's payload differed in key order from the one sent live; json
 * keeps the text as it was written.
 */
export class OutboxJson1732944000000 implements MigrationInterface {
  name = 'OutboxJson1732944000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE outbox_events ALTER COLUMN payload TYPE json USING payload::json`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE outbox_events ALTER COLUMN payload TYPE jsonb USING payload::jsonb`);
  }
}
