import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payments through partners: deposits, withdrawals (direct or through an agent) and the partner
 * webhook events that settle them. A status only moves forward, by guarded updates
 * (`UPDATE ... WHERE status IN (...)`), in the transaction that posts its money; the database
 * insists that a completed payment has its journal and a final one its time.
 */
export class Payments1732684800000 implements MigrationInterface {
  name = 'Payments1732684800000';

  async up(db: QueryRunner): Promise<void> {
    // request_ref: DEP-REQ-YYYYMMDD-NNN, the number from one sequence, so unique across days too.
    await db.query(`CREATE SEQUENCE payment_ref_seq`);
    await db.query(`
      CREATE TABLE deposits (
        id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_ref       text NOT NULL,
        payment_id        uuid NOT NULL,
        user_id           bigint NOT NULL REFERENCES users (id),
        partner_id        text NOT NULL REFERENCES partners (id),
        service           text NOT NULL,
        payment_method    text,
        currency          text NOT NULL REFERENCES currencies (code),
        amount            bigint NOT NULL,
        fee               bigint NOT NULL,
        status            text NOT NULL DEFAULT 'pending',
        partner_reference text,
        journal_id        bigint REFERENCES journals (id),
        error             text,
        expires_at        timestamptz NOT NULL,
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now(),
        finished_at       timestamptz,
        CONSTRAINT deposits_request_ref_key UNIQUE (request_ref),
        CONSTRAINT deposits_payment_id_key UNIQUE (payment_id),
        CONSTRAINT deposits_amount_positive CHECK (amount > 0),
        CONSTRAINT deposits_fee_below_amount CHECK (fee >= 0 AND fee < amount),
        CONSTRAINT deposits_status_known CHECK (status IN ('pending', 'sent_to_partner', 'completed', 'failed', 'expired', 'cancelled')),
        CONSTRAINT deposits_completed_has_journal CHECK ((status = 'completed') = (journal_id IS NOT NULL)),
        CONSTRAINT deposits_final_has_time CHECK ((status IN ('pending', 'sent_to_partner')) = (finished_at IS NULL))
      )`);
    await db.query(`CREATE INDEX deposits_user_idx ON deposits (user_id, id DESC)`);
    await db.query(
      `CREATE INDEX deposits_open_idx ON deposits (expires_at) WHERE status IN ('pending', 'sent_to_partner')`,
    );

    // A withdrawal holds amount + fee on the user's wallet from its creation (hold reference
    // 'withdrawal:<id>') until the payout is captured (completed) or released (failed).
    await db.query(`
      CREATE TABLE withdrawals (
        id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_ref       text NOT NULL,
        payment_id        uuid NOT NULL,
        user_id           bigint NOT NULL REFERENCES users (id),
        partner_id        text REFERENCES partners (id),
        agent_id          text,
        service           text,
        destination       text NOT NULL,
        currency          text NOT NULL REFERENCES currencies (code),
        amount            bigint NOT NULL,
        fee               bigint NOT NULL,
        agent_commission  bigint NOT NULL DEFAULT 0,
        status            text NOT NULL DEFAULT 'processing',
        partner_reference text,
        journal_id        bigint REFERENCES journals (id),
        error             text,
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now(),
        finished_at       timestamptz,
        CONSTRAINT withdrawals_request_ref_key UNIQUE (request_ref),
        CONSTRAINT withdrawals_payment_id_key UNIQUE (payment_id),
        CONSTRAINT withdrawals_amount_positive CHECK (amount > 0),
        CONSTRAINT withdrawals_fee_non_negative CHECK (fee >= 0),
        CONSTRAINT withdrawals_commission_within_fee CHECK (agent_commission >= 0 AND agent_commission <= fee),
        CONSTRAINT withdrawals_one_route CHECK ((partner_id IS NULL) <> (agent_id IS NULL)),
        CONSTRAINT withdrawals_status_known CHECK (status IN ('processing', 'sent_to_partner', 'completed', 'failed')),
        CONSTRAINT withdrawals_completed_has_journal CHECK ((status = 'completed') = (journal_id IS NOT NULL)),
        CONSTRAINT withdrawals_final_has_time CHECK ((status IN ('processing', 'sent_to_partner')) = (finished_at IS NULL))
      )`);
    await db.query(`CREATE INDEX withdrawals_user_idx ON withdrawals (user_id, id DESC)`);

    // Every webhook a partner sent us, once per event_id, with what it did.
    await db.query(`
      CREATE TABLE webhook_events (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        partner_id  text NOT NULL REFERENCES partners (id),
        event_id    text NOT NULL,
        type        text NOT NULL,
        request_ref text NOT NULL,
        payload     jsonb NOT NULL,
        outcome     text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT webhook_events_event_key UNIQUE (partner_id, event_id),
        CONSTRAINT webhook_events_outcome_known CHECK (outcome IN ('applied', 'ignored'))
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE webhook_events`);
    await db.query(`DROP TABLE withdrawals`);
    await db.query(`DROP TABLE deposits`);
    await db.query(`DROP SEQUENCE payment_ref_seq`);
  }
}
