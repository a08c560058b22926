import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Verification: TOTP secrets (encrypted), OTP challenges (codes kept only as a keyed hash), the
 * messages that deliver them (body encrypted until delivered, then wiped), single-use verification
 * tokens (kept only as a sha-256), and the per-day failure count behind the verification lockout.
 */
export class Verification1732512000000 implements MigrationInterface {
  name = 'Verification1732512000000';

  async up(db: QueryRunner): Promise<void> {
    // last_step: the RFC 6238 time step of the last accepted code; a code is accepted only for a
    // later step (UPDATE ... WHERE last_step < $step), so none is accepted twice.
    await db.query(`
      CREATE TABLE user_totp (
        user_id    bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        secret_enc text NOT NULL,
        enabled_at timestamptz,
        last_step  bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT user_totp_last_step_non_negative CHECK (last_step IS NULL OR last_step >= 0)
      )`);

    // One row per verification_request. OTP rows carry the HMAC of their code; TOTP rows only
    // the bindings (amount, currency, destination) for the token verify_totp will issue.
    await db.query(`
      CREATE TABLE verification_challenges (
        id          uuid PRIMARY KEY,
        user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        method      text NOT NULL,
        purpose     text NOT NULL,
        amount      bigint,
        currency    text REFERENCES currencies (code),
        destination text,
        code_hash   bytea,
        attempts    smallint NOT NULL DEFAULT 0,
        status      text NOT NULL DEFAULT 'pending',
        created_at  timestamptz NOT NULL,
        expires_at  timestamptz NOT NULL,
        verified_at timestamptz,
        CONSTRAINT verification_challenges_method_known CHECK (method IN ('totp', 'otp_email', 'otp_sms', 'otp_whatsapp')),
        CONSTRAINT verification_challenges_status_known
          CHECK (status IN ('pending', 'verified', 'voided', 'superseded', 'undelivered')),
        CONSTRAINT verification_challenges_code_iff_otp CHECK ((method = 'totp') = (code_hash IS NULL)),
        CONSTRAINT verification_challenges_attempts_range CHECK (attempts BETWEEN 0 AND 5),
        CONSTRAINT verification_challenges_amount_positive CHECK (amount IS NULL OR amount > 0),
        CONSTRAINT verification_challenges_amount_has_currency CHECK (amount IS NULL OR currency IS NOT NULL)
      )`);
    // At most one open challenge per user and purpose: a new request supersedes the old one.
    await db.query(
      `CREATE UNIQUE INDEX verification_challenges_pending_key ON verification_challenges (user_id, purpose) WHERE status = 'pending'`,
    );
    await db.query(`CREATE INDEX verification_challenges_user_idx ON verification_challenges (user_id, created_at)`);

    await db.query(`
      CREATE TABLE verification_messages (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        challenge_id uuid NOT NULL REFERENCES verification_challenges (id) ON DELETE CASCADE,
        user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        channel      text NOT NULL,
        recipient    text NOT NULL,
        body_enc     text,
        status       text NOT NULL DEFAULT 'queued',
        attempts     integer NOT NULL DEFAULT 0,
        last_error   text,
        provider     text,
        created_at   timestamptz NOT NULL,
        sent_at      timestamptz,
        failed_at    timestamptz,
        CONSTRAINT verification_messages_channel_known CHECK (channel IN ('email', 'sms', 'whatsapp')),
        CONSTRAINT verification_messages_status_known CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
        CONSTRAINT verification_messages_body_only_queued CHECK (status = 'queued' OR body_enc IS NULL)
      )`);
    await db.query(`CREATE INDEX verification_messages_status_idx ON verification_messages (status, id)`);
    await db.query(`CREATE INDEX verification_messages_challenge_idx ON verification_messages (challenge_id)`);

    await db.query(`
      CREATE TABLE verification_tokens (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        token_hash   bytea NOT NULL,
        user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        purpose      text NOT NULL,
        method       text NOT NULL,
        challenge_id uuid REFERENCES verification_challenges (id) ON DELETE SET NULL,
        amount       bigint,
        currency     text REFERENCES currencies (code),
        destination  text,
        created_at   timestamptz NOT NULL,
        expires_at   timestamptz NOT NULL,
        consumed_at  timestamptz,
        consumed_for text,
        CONSTRAINT verification_tokens_token_hash_key UNIQUE (token_hash),
        CONSTRAINT verification_tokens_hash_length CHECK (length(token_hash) = 32),
        CONSTRAINT verification_tokens_method_known CHECK (method IN ('totp', 'otp_email', 'otp_sms', 'otp_whatsapp')),
        CONSTRAINT verification_tokens_amount_has_currency CHECK (amount IS NULL OR currency IS NOT NULL)
      )`);
    await db.query(`CREATE INDEX verification_tokens_user_idx ON verification_tokens (user_id, created_at)`);

    // Wrong codes per user and UTC day; reaching the limit sets locked_until.
    await db.query(`
      CREATE TABLE verification_failures (
        user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        day          date NOT NULL,
        failures     integer NOT NULL DEFAULT 0,
        locked_until timestamptz,
        CONSTRAINT verification_failures_pkey PRIMARY KEY (user_id, day),
        CONSTRAINT verification_failures_non_negative CHECK (failures >= 0)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE verification_failures`);
    await db.query(`DROP TABLE verification_tokens`);
    await db.query(`DROP TABLE verification_messages`);
    await db.query(`DROP TABLE verification_challenges`);
    await db.query(`DROP TABLE user_totp`);
  }
}
