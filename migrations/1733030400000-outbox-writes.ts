import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox keeps one row per channel per writing statement, holding that statement's events of
 * the channel as a run of consecutive sequence numbers, instead of one row per event. A transfer
 * announces six events to two channels: six rows, each with its primary key, (channel, seq) and
 * BRIN index entries, became two; a posting batch of 64 transfers writes ~128 rows instead of 384.
 * Measured with bench/ledger in alternating runs: all into one receiver (whose ~190 events per
 * batch now fill one row) 1,694-1,803 -> 1,844-1,935 transfers/s; uniform within the noise.
 *
 * - `outbox_events` is renamed `outbox_writes`; `seq` becomes `first_seq`..`last_seq`, and
 *   `event`/`payload` become `events`, a JSON array of `{"event", "payload"}` in seq order (json,
 *   not jsonb: the payload text is replayed exactly as it was sent live).
 * - The database checks that a run is well formed: positive, ordered, and as long as its array.
 *   Runs of a channel never overlap because their seqs are taken from `channel_seq` under its row
 *   lock; (channel, last_seq) is unique and is the index replay reads by.
 * - `outbox_unsent` lists write ids (`first_write_id`, `write_ids`).
 * - A view named `outbox_events` gives the old one-row-per-event shape (with `write_id`) for
 *   reading by hand and in tests; nothing in the service reads it.
 */
/**
 * The statement trigger recording one outbox_unsent row per INSERT (see OutboxUnsent1732857600000),
 * with the column names of either side of this migration.
 */
async function recordUnsent(db: QueryRunner, table: string, [first, ids]: [first: string, ids: string]): Promise<void> {
  await db.query(`
    CREATE FUNCTION outbox_record_unsent() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO outbox_unsent (${first}, ${ids})
      SELECT min(id), array_agg(id ORDER BY id) FROM inserted HAVING count(*) > 0;
      RETURN NULL;
    END $$`);
  await db.query(`
    CREATE TRIGGER ${table}_unsent AFTER INSERT ON ${table}
      REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION outbox_record_unsent()`);
}

export class OutboxWrites1733030400000 implements MigrationInterface {
  name = 'OutboxWrites1733030400000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE outbox_events RENAME TO outbox_writes`);
    await db.query(`ALTER TABLE outbox_writes RENAME CONSTRAINT outbox_events_pkey TO outbox_writes_pkey`);
    await db.query(`ALTER INDEX outbox_events_created_at_idx RENAME TO outbox_writes_created_at_idx`);
    await db.query(`ALTER TABLE outbox_writes RENAME COLUMN seq TO last_seq`);
    await db.query(`ALTER TABLE outbox_writes ADD COLUMN first_seq bigint, ADD COLUMN events json`);
    await db.query(
      `UPDATE outbox_writes SET first_seq = last_seq, events = json_build_array(json_build_object('event', event, 'payload', payload))`,
    );
    await db.query(`
      ALTER TABLE outbox_writes
        ALTER COLUMN first_seq SET NOT NULL,
        ALTER COLUMN events SET NOT NULL,
        DROP COLUMN event,
        DROP COLUMN payload,
        DROP CONSTRAINT outbox_events_seq_positive,
        DROP CONSTRAINT outbox_events_channel_seq_key,
        ADD CONSTRAINT outbox_writes_channel_last_seq_key UNIQUE (channel, last_seq),
        ADD CONSTRAINT outbox_writes_seq_run CHECK (
          first_seq > 0 AND last_seq >= first_seq AND json_array_length(events) = last_seq - first_seq + 1)`);

    await db.query(`ALTER TABLE outbox_unsent RENAME COLUMN first_event_id TO first_write_id`);
    await db.query(`ALTER TABLE outbox_unsent RENAME COLUMN event_ids TO write_ids`);
    await db.query(`ALTER TABLE outbox_unsent RENAME CONSTRAINT outbox_unsent_has_events TO outbox_unsent_has_writes`);
    await db.query(`DROP TRIGGER outbox_events_unsent ON outbox_writes`);
    await db.query(`DROP FUNCTION outbox_record_unsent()`);
    await recordUnsent(db, 'outbox_writes', ['first_write_id', 'write_ids']);

    await db.query(`
      CREATE VIEW outbox_events AS
      SELECT w.id AS write_id, w.channel, w.first_seq + e.ord - 1 AS seq, e.value ->> 'event' AS event,
             e.value -> 'payload' AS payload, w.created_at
        FROM outbox_writes w CROSS JOIN LATERAL json_array_elements(w.events) WITH ORDINALITY AS e(value, ord)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER outbox_writes_unsent ON outbox_writes`);
    await db.query(`DROP FUNCTION outbox_record_unsent()`);

    // One row per event again (the view has them): the first event of a run keeps the run's id
    // (outbox_unsent points at it), the others get new ones and join their run's unsent row.
    await db.query(`
      CREATE TABLE outbox_split AS
      SELECT e.write_id, e.seq - w.first_seq + 1 AS ord, e.channel, e.seq, e.event, e.payload, e.created_at
        FROM outbox_events e JOIN outbox_writes w ON w.id = e.write_id`);
    await db.query(`DROP VIEW outbox_events`);
    await db.query(`
      ALTER TABLE outbox_writes
        DROP CONSTRAINT outbox_writes_seq_run,
        DROP CONSTRAINT outbox_writes_channel_last_seq_key,
        ADD COLUMN event text,
        ADD COLUMN payload json`);
    await db.query(`
      UPDATE outbox_writes w SET event = s.event, payload = s.payload, last_seq = s.seq
        FROM outbox_split s WHERE s.write_id = w.id AND s.ord = 1`);
    await db.query(`
      INSERT INTO outbox_writes (channel, first_seq, last_seq, events, event, payload, created_at)
      SELECT channel, seq, seq, '[]', event, payload, created_at FROM outbox_split WHERE ord > 1 ORDER BY write_id, ord`);
    await db.query(`
      UPDATE outbox_unsent u SET write_ids = (
        SELECT array_agg(w.id ORDER BY w.id) FROM outbox_writes w JOIN outbox_split s ON s.channel = w.channel AND s.seq = w.last_seq
         WHERE s.write_id = ANY(u.write_ids))`);
    await db.query(`DROP TABLE outbox_split`);
    await db.query(`
      ALTER TABLE outbox_writes
        ALTER COLUMN event SET NOT NULL,
        ALTER COLUMN payload SET NOT NULL,
        DROP COLUMN first_seq,
        DROP COLUMN events,
        ADD CONSTRAINT outbox_events_channel_seq_key UNIQUE (channel, last_seq),
        ADD CONSTRAINT outbox_events_seq_positive CHECK (last_seq > 0)`);
    await db.query(`ALTER TABLE outbox_writes RENAME COLUMN last_seq TO seq`);

    await db.query(`ALTER TABLE outbox_unsent RENAME CONSTRAINT outbox_unsent_has_writes TO outbox_unsent_has_events`);
    await db.query(`ALTER TABLE outbox_unsent RENAME COLUMN write_ids TO event_ids`);
    await db.query(`ALTER TABLE outbox_unsent RENAME COLUMN first_write_id TO first_event_id`);
    await db.query(`ALTER INDEX outbox_writes_created_at_idx RENAME TO outbox_events_created_at_idx`);
    await db.query(`ALTER TABLE outbox_writes RENAME CONSTRAINT outbox_writes_pkey TO outbox_events_pkey`);
    await db.query(`ALTER TABLE outbox_writes RENAME TO outbox_events`);
    await recordUnsent(db, 'outbox_events', ['first_event_id', 'event_ids']);
  }
}
