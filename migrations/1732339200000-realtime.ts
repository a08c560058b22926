import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The event outbox with per-channel sequence numbers, settings, user notifications, audit log. */
export class Realtime1732339200000 implements MigrationInterface {
  name = 'Realtime1732339200000';

  async up(db: QueryRunner): Promise<void> {
    // The last sequence number given out per channel. Its row lock, taken at commit time in
    // channel order, makes seq order equal commit order on each channel.
    await db.query(`
      CREATE TABLE channel_seq (
        channel text PRIMARY KEY,
        seq     bigint NOT NULL,
        CONSTRAINT channel_seq_positive CHECK (seq > 0)
      )`);

    // Every event, written in the transaction of the change it announces; kept for replay.
    await db.query(`
      CREATE TABLE outbox_events (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        channel    text NOT NULL,
        seq        bigint NOT NULL,
        event      text NOT NULL,
        payload    jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        emitted_at timestamptz,
        CONSTRAINT outbox_events_channel_seq_key UNIQUE (channel, seq),
        CONSTRAINT outbox_events_seq_positive CHECK (seq > 0)
      )`);
    await db.query(`CREATE INDEX outbox_events_pending_idx ON outbox_events (id) WHERE emitted_at IS NULL`);
    await db.query(`CREATE INDEX outbox_events_created_at_idx ON outbox_events (created_at)`);

    await db.query(`
      CREATE TABLE settings (
        key        text PRIMARY KEY,
        value      jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by bigint REFERENCES users (id) ON DELETE SET NULL,
        CONSTRAINT settings_key_format CHECK (key ~ '^[a-z][a-z0-9_]{0,63}$')
      )`);

    await db.query(`
      CREATE TABLE notifications (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        message    text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        read_at    timestamptz,
        CONSTRAINT notifications_message_length CHECK (length(message) BETWEEN 1 AND 1000)
      )`);
    await db.query(`CREATE INDEX notifications_user_id_idx ON notifications (user_id, id)`);

    await db.query(`
      CREATE TABLE audit_log (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        actor_id   bigint REFERENCES users (id) ON DELETE SET NULL,
        action     text NOT NULL,
        target     text,
        details    jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX audit_log_created_at_idx ON audit_log (created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE audit_log`);
    await db.query(`DROP TABLE notifications`);
    await db.query(`DROP TABLE settings`);
    await db.query(`DROP TABLE outbox_events`);
    await db.query(`DROP TABLE channel_seq`);
  }
}
