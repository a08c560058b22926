import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the relay must still send, as one row per writing statement instead of a column on every
 * event. The first version marked each event emitted with an UPDATE of its outbox row: with the
 * partial index on `emitted_at IS NULL` that update could never be HOT, so every event was written
 * twice with all its index entries (a transfer announces six events: twelve row versions).
 *
 * Now a statement-level trigger on outbox_events records, in the same transaction, one
 * `outbox_unsent` row per INSERT statement listing the event ids it wrote (so nothing that writes
 * events can forget to, not even a raw insert); the process that emitted them after commit deletes
 * that one row, and the relay sends the events of rows left behind. The retention purge keeps its
 * time index as BRIN: events are appended in time order, and a BRIN index costs next to nothing
 * to maintain.
 */
export class OutboxUnsent1732857600000 implements MigrationInterface {
  name = 'OutboxUnsent1732857600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE outbox_unsent (
        first_event_id bigint PRIMARY KEY,
        event_ids      bigint[] NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT outbox_unsent_has_events CHECK (cardinality(event_ids) > 0)
      )`);
    // Events written before this migration and never marked emitted, in groups of ids.
    await db.query(`
      INSERT INTO outbox_unsent (first_event_id, event_ids, created_at)
      SELECT min(id), array_agg(id ORDER BY id), min(created_at)
        FROM outbox_events WHERE emitted_at IS NULL GROUP BY id / 1000`);
    await db.query(`DROP INDEX outbox_events_pending_idx`);
    await db.query(`ALTER TABLE outbox_events DROP COLUMN emitted_at`);
    await db.query(`DROP INDEX outbox_events_created_at_idx`);
    await db.query(`CREATE INDEX outbox_events_created_at_idx ON outbox_events USING brin (created_at)`);

    await db.query(`
      CREATE FUNCTION outbox_record_unsent() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO outbox_unsent (first_event_id, event_ids)
        SELECT min(id), array_agg(id ORDER BY id) FROM inserted HAVING count(*) > 0;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER outbox_events_unsent AFTER INSERT ON outbox_events
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION outbox_record_unsent()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER outbox_events_unsent ON outbox_events`);
    await db.query(`DROP FUNCTION outbox_record_unsent()`);
    await db.query(`DROP INDEX outbox_events_created_at_idx`);
    await db.query(`CREATE INDEX outbox_events_created_at_idx ON outbox_events (created_at)`);
    await db.query(`ALTER TABLE outbox_events ADD COLUMN emitted_at timestamptz`);
    await db.query(`UPDATE outbox_events SET emitted_at = now()`);
    await db.query(`
      UPDATE outbox_events SET emitted_at = NULL
        WHERE id IN (SELECT unnest(event_ids) FROM outbox_unsent)`);
    await db.query(`CREATE INDEX outbox_events_pending_idx ON outbox_events (id) WHERE emitted_at IS NULL`);
    await db.query(`DROP TABLE outbox_unsent`);
  }
}
