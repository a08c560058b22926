import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The exchange: one book row per pair (its lock serializes matching across instances; its version
 * tells an instance whether its in-memory book is still current), orders, trades, and OHLCV
 * candles kept per interval in the transaction of the trades (so the candles and the 24 h ticker
 * are read from at most 1,440 rows, whatever the number of trades).
 *
 * Holds may now be captured in parts: an order's funds are held once and its fills take them
 * bit by bit. `remaining` is what a hold still sets aside; an account's pending_debit is the sum
 * of its held holds' `remaining`. A hold is `captured` when nothing remains, `released` when what
 * remained went back (its `remaining` keeps the amount released).
 */
export class Market1733116800000 implements MigrationInterface {
  name = 'Market1733116800000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE holds ADD COLUMN remaining bigint`);
    await db.query(`UPDATE holds SET remaining = CASE status WHEN 'captured' THEN 0 ELSE amount END`);
    await db.query(`ALTER TABLE holds ALTER COLUMN remaining SET NOT NULL`);
    await db.query(`
      ALTER TABLE holds ADD CONSTRAINT holds_remaining_range CHECK (
        remaining >= 0 AND remaining <= amount AND
        (status <> 'held' OR remaining > 0) AND (status <> 'captured' OR remaining = 0))`);

    await db.query(`
      CREATE TABLE market_books (
        pair          text PRIMARY KEY,
        version       bigint NOT NULL DEFAULT 0,
        next_sequence bigint NOT NULL DEFAULT 1,
        CONSTRAINT market_books_sequence_positive CHECK (next_sequence > 0)
      )`);
    await db.query(`
      CREATE TABLE orders (
        id                   uuid PRIMARY KEY,
        user_id              bigint NOT NULL REFERENCES users (id),
        pair                 text NOT NULL REFERENCES market_books (pair),
        side                 text NOT NULL,
        type                 text NOT NULL,
        price                bigint,
        amount               bigint NOT NULL,
        filled               bigint NOT NULL DEFAULT 0,
        quote_filled         bigint NOT NULL DEFAULT 0,
        fee_paid             bigint NOT NULL DEFAULT 0,
        fee_currency         text NOT NULL,
        status               text NOT NULL,
        reason               text,
        time_in_force        text NOT NULL,
        post_only            boolean NOT NULL DEFAULT false,
        client_order_id      text,
        sequence             bigint NOT NULL,
        hold_reference       text,
        session_id           text,
        cancel_on_disconnect boolean NOT NULL DEFAULT false,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT orders_side_known CHECK (side IN ('buy', 'sell')),
        CONSTRAINT orders_type_known CHECK (type IN ('limit', 'market')),
        CONSTRAINT orders_status_known CHECK (status IN ('open', 'partially_filled', 'filled', 'cancelled')),
        CONSTRAINT orders_tif_known CHECK (time_in_force IN ('gtc', 'ioc', 'fok')),
        CONSTRAINT orders_price_by_type CHECK ((type = 'limit' AND price > 0) OR (type = 'market' AND price IS NULL)),
        CONSTRAINT orders_amounts CHECK (amount > 0 AND filled >= 0 AND filled <= amount AND quote_filled >= 0 AND fee_paid >= 0),
        CONSTRAINT orders_filled_status CHECK (
          (status = 'filled') = (filled = amount) AND (status <> 'open' OR filled = 0)),
        CONSTRAINT orders_resting_kind CHECK (
          status NOT IN ('open', 'partially_filled') OR (type = 'limit' AND time_in_force = 'gtc')),
        CONSTRAINT orders_client_order_id_key UNIQUE (user_id, client_order_id)
      )`);
    // Loading a book: its resting orders in time priority.
    await db.query(
      `CREATE INDEX orders_resting_idx ON orders (pair, sequence) WHERE status IN ('open', 'partially_filled')`,
    );
    // get_orders: a user's orders, newest first.
    await db.query(`CREATE INDEX orders_user_idx ON orders (user_id, created_at DESC, id)`);
    // The dead man's switch: a session's open orders that go with it.
    await db.query(
      `CREATE INDEX orders_disconnect_idx ON orders (session_id)
         WHERE cancel_on_disconnect AND status IN ('open', 'partially_filled')`,
    );

    await db.query(`
      CREATE TABLE trades (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        pair           text NOT NULL REFERENCES market_books (pair),
        price          bigint NOT NULL,
        amount         bigint NOT NULL,
        quote_amount   bigint NOT NULL,
        taker_side     text NOT NULL,
        maker_order_id uuid NOT NULL REFERENCES orders (id),
        taker_order_id uuid NOT NULL REFERENCES orders (id),
        maker_user_id  bigint NOT NULL,
        taker_user_id  bigint NOT NULL,
        buyer_fee      bigint NOT NULL,
        seller_fee     bigint NOT NULL,
        journal_id     bigint NOT NULL REFERENCES journals (id),
        created_at     timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT trades_amounts CHECK (price > 0 AND amount > 0 AND quote_amount >= 0 AND buyer_fee >= 0 AND seller_fee >= 0),
        CONSTRAINT trades_side_known CHECK (taker_side IN ('buy', 'sell'))
      )`);
    // Public trades of a pair, newest first (before_id pages); a user's own fills.
    await db.query(`CREATE INDEX trades_pair_idx ON trades (pair, id DESC)`);
    await db.query(`CREATE INDEX trades_maker_idx ON trades (maker_user_id, id DESC)`);
    await db.query(`CREATE INDEX trades_taker_idx ON trades (taker_user_id, id DESC)`);

    await db.query(`
      CREATE TABLE market_candles (
        pair         text NOT NULL REFERENCES market_books (pair),
        interval     text NOT NULL,
        bucket       timestamptz NOT NULL,
        open         bigint NOT NULL,
        high         bigint NOT NULL,
        low          bigint NOT NULL,
        close        bigint NOT NULL,
        volume       bigint NOT NULL,
        quote_volume bigint NOT NULL,
        trades       integer NOT NULL,
        first_trade  bigint NOT NULL,
        last_trade   bigint NOT NULL,
        PRIMARY KEY (pair, interval, bucket),
        CONSTRAINT market_candles_interval_known CHECK (interval IN ('1m', '5m', '1h', '1d'))
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE market_candles`);
    await db.query(`DROP TABLE trades`);
    await db.query(`DROP TABLE orders`);
    await db.query(`DROP TABLE market_books`);
    await db.query(`ALTER TABLE holds DROP CONSTRAINT holds_remaining_range`);
    await db.query(`ALTER TABLE holds DROP COLUMN remaining`);
  }
}
