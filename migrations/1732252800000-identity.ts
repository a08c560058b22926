import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, login sessions with rotating refresh tokens, and API keys. */
export class Identity1732252800000 implements MigrationInterface {
  name = 'Identity1732252800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE users (
        id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        email              text NOT NULL,
        password_hash      text NOT NULL,
        phone              text,
        name               text,
        channel            text NOT NULL,
        state              text NOT NULL DEFAULT 'active',
        plan               text NOT NULL,
        role               text NOT NULL DEFAULT 'user',
        two_factor_enabled boolean NOT NULL DEFAULT false,
        created_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_email_key UNIQUE (email),
        CONSTRAINT users_channel_key UNIQUE (channel),
        CONSTRAINT users_email_normalized CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 254),
        CONSTRAINT users_channel_format CHECK (channel ~ '^[0-9a-f]{32}$'),
        CONSTRAINT users_role_known CHECK (role IN ('user', 'admin')),
        CONSTRAINT users_state_known CHECK (state IN ('active', 'suspended'))
      )`);

    await db.query(`
      CREATE TABLE sessions (
        id             uuid PRIMARY KEY,
        user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at     timestamptz NOT NULL DEFAULT now(),
        expires_at     timestamptz NOT NULL,
        revoked_at     timestamptz,
        revoked_reason text,
        user_agent     text,
        ip             text,
        CONSTRAINT sessions_revocation_complete CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
      )`);
    await db.query(`CREATE INDEX sessions_user_id_idx ON sessions (user_id)`);
    await db.query(`CREATE INDEX sessions_expires_at_idx ON sessions (expires_at)`);

    // One row per issued refresh token; a session is the token family. A token is used once
    // (used_at); presenting a used one revokes the whole session.
    await db.query(`
      CREATE TABLE refresh_tokens (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        token_hash bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at    timestamptz,
        CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash),
        CONSTRAINT refresh_tokens_hash_length CHECK (octet_length(token_hash) = 32)
      )`);
    await db.query(`CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id)`);

    await db.query(`
      CREATE TABLE api_keys (
        id           uuid PRIMARY KEY,
        user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        prefix       text NOT NULL,
        key_hash     bytea NOT NULL,
        plan         text NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at   timestamptz,
        CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
        CONSTRAINT api_keys_hash_length CHECK (octet_length(key_hash) = 32)
      )`);
    await db.query(`CREATE INDEX api_keys_user_id_idx ON api_keys (user_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE api_keys`);
    await db.query(`DROP TABLE refresh_tokens`);
    await db.query(`DROP TABLE sessions`);
    await db.query(`DROP TABLE users`);
  }
}
