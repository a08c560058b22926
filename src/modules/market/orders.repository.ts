// SQL of the exchange: the book rows that serialize matching, resting orders read back into a
// book, and the rows one batch of orders leaves (orders, trades, candles, the book's version) in
// one statement.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { pgArray } from '../../core/database/pg-array.js';
import { sql } from '../../core/database/sql.js';
import type { OrderStatus, Side, TimeInForce } from './engine/index.js';

/** An order as the exchange keeps it in memory next to its book, and writes it. */
export interface OrderRecord {
  id: string;
  userId: string;
  /** The owner's private channel. */
  userChannel: string;
  pair: string;
  side: Side;
  type: 'limit' | 'market';
  price: bigint | null;
  amount: bigint;
  filled: bigint;
  /** What the fills cost or brought, in quote minor units, before fees. */
  quoteFilled: bigint;
  feePaid: bigint;
  feeCurrency: string;
  status: Exclude<OrderStatus, 'rejected'>;
  reason: string | null;
  timeInForce: TimeInForce;
  postOnly: boolean;
  clientOrderId: string | null;
  sequence: bigint;
  /** The hold of its funds, while it has one. */
  holdReference: string | null;
  sessionId: string | null;
  cancelOnDisconnect: boolean;
  /** The owner's wallets of the pair's base and quote currencies. */
  baseAccountId: string;
  quoteAccountId: string;
  createdAt: Date;
  updatedAt: Date;
  /**
   * What the owner was last told of the fills (the `order` event before this change): the fill
   * since then is the event's `last_fill`. Absent on an order placed in this batch (nothing yet).
   */
  announced?: { filled: bigint; quoteFilled: bigint; feePaid: bigint };
}

export interface TradeRecord {
  pair: string;
  price: bigint;
  amount: bigint;
  quoteAmount: bigint;
  takerSide: Side;
  makerOrderId: string;
  takerOrderId: string;
  makerUserId: string;
  takerUserId: string;
  buyerFee: bigint;
  sellerFee: bigint;
  journalId: string;
}

export const CANDLE_INTERVALS = ['1m', '5m', '1h', '1d'] as const;
export type CandleInterval = (typeof CANDLE_INTERVALS)[number];

interface OrderRow {
  id: string;
  user_id: string;
  user_channel: string;
  pair: string;
  side: Side;
  type: 'limit' | 'market';
  price: string | null;
  amount: string;
  filled: string;
  quote_filled: string;
  fee_paid: string;
  fee_currency: string;
  status: OrderRecord['status'];
  reason: string | null;
  time_in_force: TimeInForce;
  post_only: boolean;
  client_order_id: string | null;
  sequence: string;
  hold_reference: string | null;
  session_id: string | null;
  cancel_on_disconnect: boolean;
  base_account_id: string;
  quote_account_id: string;
  created_at: Date;
  updated_at: Date;
}

/**
 * An order as the matcher uses it, with its owner's channel (joined from users in the same
 * statement: a book load or a fill's events need every owner's channel, and a lookup per owner
 * would be a round trip each under the book lock).
 */
const ORDER_COLUMNS = `o.id, o.user_id, u.channel AS user_channel, o.pair, o.side, o.type, o.price, o.amount, o.filled,
  o.quote_filled, o.fee_paid, o.fee_currency, o.status, o.reason, o.time_in_force, o.post_only, o.client_order_id,
  o.sequence, o.hold_reference, o.session_id, o.cancel_on_disconnect, o.created_at, o.updated_at,
  (SELECT a.id FROM accounts a WHERE a.owner_user_id = o.user_id AND a.kind = 'user_wallet' AND a.currency = split_part(o.pair, '-', 1)) AS base_account_id,
  (SELECT a.id FROM accounts a WHERE a.owner_user_id = o.user_id AND a.kind = 'user_wallet' AND a.currency = split_part(o.pair, '-', 2)) AS quote_account_id`;

const toRecord = (row: OrderRow): OrderRecord => ({
  id: row.id,
  userId: String(row.user_id),
  userChannel: row.user_channel,
  pair: row.pair,
  side: row.side,
  type: row.type,
  price: row.price === null ? null : BigInt(row.price),
  amount: BigInt(row.amount),
  filled: BigInt(row.filled),
  quoteFilled: BigInt(row.quote_filled),
  feePaid: BigInt(row.fee_paid),
  feeCurrency: row.fee_currency,
  status: row.status,
  reason: row.reason,
  timeInForce: row.time_in_force,
  postOnly: row.post_only,
  clientOrderId: row.client_order_id,
  sequence: BigInt(row.sequence),
  holdReference: row.hold_reference,
  sessionId: row.session_id,
  cancelOnDisconnect: row.cancel_on_disconnect,
  baseAccountId: String(row.base_account_id),
  quoteAccountId: String(row.quote_account_id),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  announced: { filled: BigInt(row.filled), quoteFilled: BigInt(row.quote_filled), feePaid: BigInt(row.fee_paid) },
});

@Injectable()
export class OrdersRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** A book row for every pair (several instances may do this at once). */
  async ensureBooks(pairs: string[]): Promise<void> {
    await sql(this.db, `INSERT INTO market_books (pair) SELECT unnest($1::text[]) ON CONFLICT (pair) DO NOTHING`, [
      pgArray(pairs),
    ]);
  }

  /** Locks the pair's book row until the transaction ends: one matcher per pair, on every instance. */
  async lockBook(tx: EntityManager, pair: string): Promise<{ version: bigint; nextSequence: bigint }> {
    const { rows } = await sql<{ version: string; next_sequence: string }>(
      tx,
      `SELECT version, next_sequence FROM market_books WHERE pair = $1 FOR UPDATE`,
      [pair],
    );
    if (!rows[0]) throw new Error(`no book row for pair ${pair}`);
    return { version: BigInt(rows[0].version), nextSequence: BigInt(rows[0].next_sequence) };
  }

  /** The pair's resting orders, in time priority. */
  async restingOrders(tx: EntityManager, pair: string): Promise<OrderRecord[]> {
    const { rows } = await sql<OrderRow>(
      tx,
      `SELECT ${ORDER_COLUMNS} FROM orders o JOIN users u ON u.id = o.user_id
        WHERE o.pair = $1 AND o.status IN ('open', 'partially_filled') ORDER BY o.sequence`,
      [pair],
    );
    return rows.map(toRecord);
  }

  /** One order by id, or by the user's client_order_id. */
  async find(
    manager: EntityManager | DataSource,
    userId: string,
    by: { orderId?: string; clientOrderId?: string },
  ): Promise<OrderRecord | undefined> {
    const { rows } = await sql<OrderRow>(
      manager,
      by.orderId
        ? `SELECT ${ORDER_COLUMNS} FROM orders o JOIN users u ON u.id = o.user_id WHERE o.id = $1 AND o.user_id = $2`
        : `SELECT ${ORDER_COLUMNS} FROM orders o JOIN users u ON u.id = o.user_id WHERE o.client_order_id = $1 AND o.user_id = $2`,
      [by.orderId ?? by.clientOrderId, userId],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Which of these (user, client_order_id) pairs an order holds already, as `user/id`. */
  async clientOrderIdsTaken(tx: EntityManager, wanted: readonly (readonly [string, string])[]): Promise<Set<string>> {
    if (wanted.length === 0) return new Set();
    const { rows } = await sql<{ user_id: string; client_order_id: string }>(
      tx,
      `SELECT o.user_id, o.client_order_id FROM orders o
         JOIN unnest($1::bigint[], $2::text[]) AS w(user_id, client_order_id)
           ON o.user_id = w.user_id AND o.client_order_id = w.client_order_id`,
      [pgArray(wanted.map(([userId]) => userId)), pgArray(wanted.map(([, id]) => id))],
    );
    return new Set(rows.map((r) => `${r.user_id}/${r.client_order_id}`));
  }

  /** The user's open orders (of one pair, or all), for cancel_all_orders. */
  async openOrderIds(
    manager: EntityManager | DataSource,
    userId: string,
    pair?: string,
  ): Promise<{ id: string; pair: string }[]> {
    const { rows } = await sql<{ id: string; pair: string }>(
      manager,
      `SELECT id, pair FROM orders WHERE user_id = $1 AND status IN ('open', 'partially_filled')
          AND ($2::text IS NULL OR pair = $2) ORDER BY pair, sequence`,
      [userId, pair ?? null],
    );
    return rows;
  }

  /**
   * A user's orders, newest first, with the user channel's seq read in the same snapshot (one
   * statement, so it reads users.channel itself: a UsersService call would be another snapshot).
   */
  async userOrders(
    userId: string,
    filter: { status: 'open' | 'closed' | 'all'; pair?: string; limit: number; offset: number },
  ): Promise<{ orders: OrderRecord[]; asOfSeq: number }> {
    const statuses =
      filter.status === 'open'
        ? ['open', 'partially_filled']
        : filter.status === 'closed'
          ? ['filled', 'cancelled']
          : ['open', 'partially_filled', 'filled', 'cancelled'];
    const { rows } = await sql<OrderRow & { as_of_seq: string | null; found: boolean }>(
      this.db,
      `SELECT o.id IS NOT NULL AS found, ${ORDER_COLUMNS},
              (SELECT cs.seq FROM users u2 JOIN channel_seq cs ON cs.channel = u2.channel WHERE u2.id = $1) AS as_of_seq
         FROM (SELECT 1) one
         LEFT JOIN (SELECT * FROM orders WHERE user_id = $1 AND status = ANY($2::text[]) AND ($3::text IS NULL OR pair = $3)
                     ORDER BY created_at DESC, id LIMIT $4 OFFSET $5) o ON true
         LEFT JOIN users u ON u.id = o.user_id
        ORDER BY o.created_at DESC, o.id`,
      [userId, pgArray(statuses), filter.pair ?? null, filter.limit, filter.offset],
    );
    return { orders: rows.filter((r) => r.found).map(toRecord), asOfSeq: Number(rows[0]?.as_of_seq ?? 0) };
  }

  /** The sessions that have open cancel_on_disconnect orders. */
  async disconnectSessions(): Promise<string[]> {
    const { rows } = await sql<{ session_id: string }>(
      this.db,
      `SELECT DISTINCT session_id FROM orders
        WHERE cancel_on_disconnect AND status IN ('open', 'partially_filled') AND session_id IS NOT NULL`,
    );
    return rows.map((r) => r.session_id);
  }

  /** A session's open orders that go with its last socket. */
  async disconnectOrders(sessionId: string): Promise<{ id: string; pair: string; user_id: string }[]> {
    const { rows } = await sql<{ id: string; pair: string; user_id: string }>(
      this.db,
      `SELECT id, pair, user_id FROM orders
        WHERE session_id = $1 AND cancel_on_disconnect AND status IN ('open', 'partially_filled')`,
      [sessionId],
    );
    return rows.map((r) => ({ ...r, user_id: String(r.user_id) }));
  }

  /**
   * Writes a batch in one statement: orders inserted (new) or updated (changed), trades, the
   * candles of every interval the trades fall in, and the book's new version and next sequence.
   * Returns the trades' ids, in order.
   */
  async writeBatch(
    tx: EntityManager,
    batch: {
      pair: string;
      version: bigint;
      nextSequence: bigint;
      inserted: OrderRecord[];
      updated: OrderRecord[];
      trades: TradeRecord[];
      at: Date;
    },
  ): Promise<string[]> {
    const { inserted: ins, updated: upd, trades } = batch;
    const { rows } = await sql<{ id: string }>(
      tx,
      `WITH new_orders AS (
         INSERT INTO orders (id, user_id, pair, side, type, price, amount, filled, quote_filled, fee_paid, fee_currency,
                             status, reason, time_in_force, post_only, client_order_id, sequence, hold_reference,
                             session_id, cancel_on_disconnect, created_at, updated_at)
         SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
                              $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[],
                              $15::boolean[], $16::text[], $17::bigint[], $18::text[], $19::text[], $20::boolean[],
                              $21::timestamptz[], $21::timestamptz[])
         RETURNING id
       ), changed AS (
         UPDATE orders o SET filled = c.filled, quote_filled = c.quote_filled, fee_paid = c.fee_paid, status = c.status,
                reason = c.reason, hold_reference = c.hold_reference, updated_at = $22
           FROM unnest($23::uuid[], $24::bigint[], $25::bigint[], $26::bigint[], $27::text[], $28::text[], $29::text[])
                AS c(id, filled, quote_filled, fee_paid, status, reason, hold_reference)
          WHERE o.id = c.id
       ), book AS (
         UPDATE market_books SET version = $30, next_sequence = $31 WHERE pair = $32
       ), traded AS (
         INSERT INTO trades (pair, price, amount, quote_amount, taker_side, maker_order_id, taker_order_id, maker_user_id,
                             taker_user_id, buyer_fee, seller_fee, journal_id, created_at)
         SELECT $32, t.price, t.amount, t.quote_amount, t.taker_side, t.maker_order_id, t.taker_order_id, t.maker_user_id,
                t.taker_user_id, t.buyer_fee, t.seller_fee, t.journal_id, $22
           FROM unnest($33::bigint[], $34::bigint[], $35::bigint[], $36::text[], $37::uuid[], $38::uuid[], $39::bigint[],
                       $40::bigint[], $41::bigint[], $42::bigint[], $43::bigint[])
                WITH ORDINALITY AS t(price, amount, quote_amount, taker_side, maker_order_id, taker_order_id, maker_user_id,
                                     taker_user_id, buyer_fee, seller_fee, journal_id, ord)
          ORDER BY t.ord
         RETURNING id, price, amount, quote_amount
       ), candles AS (
         INSERT INTO market_candles AS m (pair, interval, bucket, open, high, low, close, volume, quote_volume, trades,
                                          first_trade, last_trade)
         SELECT $32, i.interval, date_bin(i.width, $22::timestamptz, TIMESTAMPTZ '2000-01-01'),
                (array_agg(t.price ORDER BY t.id))[1], max(t.price), min(t.price), (array_agg(t.price ORDER BY t.id DESC))[1],
                sum(t.amount), sum(t.quote_amount), count(*), min(t.id), max(t.id)
           FROM traded t
          CROSS JOIN (VALUES ('1m', interval '1 minute'), ('5m', interval '5 minutes'), ('1h', interval '1 hour'),
                             ('1d', interval '1 day')) AS i(interval, width)
          GROUP BY i.interval, i.width
         ON CONFLICT (pair, interval, bucket) DO UPDATE SET
                high = greatest(m.high, EXCLUDED.high), low = least(m.low, EXCLUDED.low), close = EXCLUDED.close,
                volume = m.volume + EXCLUDED.volume, quote_volume = m.quote_volume + EXCLUDED.quote_volume,
                trades = m.trades + EXCLUDED.trades, last_trade = EXCLUDED.last_trade
       )
       SELECT id FROM traded ORDER BY id`,
      [
        pgArray(ins.map((o) => o.id)),
        pgArray(ins.map((o) => o.userId)),
        pgArray(ins.map((o) => o.pair)),
        pgArray(ins.map((o) => o.side)),
        pgArray(ins.map((o) => o.type)),
        pgArray(ins.map((o) => o.price)),
        pgArray(ins.map((o) => o.amount)),
        pgArray(ins.map((o) => o.filled)),
        pgArray(ins.map((o) => o.quoteFilled)),
        pgArray(ins.map((o) => o.feePaid)),
        pgArray(ins.map((o) => o.feeCurrency)),
        pgArray(ins.map((o) => o.status)),
        pgArray(ins.map((o) => o.reason)),
        pgArray(ins.map((o) => o.timeInForce)),
        pgArray(ins.map((o) => o.postOnly)),
        pgArray(ins.map((o) => o.clientOrderId)),
        pgArray(ins.map((o) => o.sequence)),
        pgArray(ins.map((o) => o.holdReference)),
        pgArray(ins.map((o) => o.sessionId)),
        pgArray(ins.map((o) => o.cancelOnDisconnect)),
        pgArray(ins.map((o) => o.createdAt.toISOString())),
        batch.at.toISOString(),
        pgArray(upd.map((o) => o.id)),
        pgArray(upd.map((o) => o.filled)),
        pgArray(upd.map((o) => o.quoteFilled)),
        pgArray(upd.map((o) => o.feePaid)),
        pgArray(upd.map((o) => o.status)),
        pgArray(upd.map((o) => o.reason)),
        pgArray(upd.map((o) => o.holdReference)),
        batch.version.toString(),
        batch.nextSequence.toString(),
        batch.pair,
        pgArray(trades.map((t) => t.price)),
        pgArray(trades.map((t) => t.amount)),
        pgArray(trades.map((t) => t.quoteAmount)),
        pgArray(trades.map((t) => t.takerSide)),
        pgArray(trades.map((t) => t.makerOrderId)),
        pgArray(trades.map((t) => t.takerOrderId)),
        pgArray(trades.map((t) => t.makerUserId)),
        pgArray(trades.map((t) => t.takerUserId)),
        pgArray(trades.map((t) => t.buyerFee)),
        pgArray(trades.map((t) => t.sellerFee)),
        pgArray(trades.map((t) => t.journalId)),
      ],
    );
    return rows.map((r) => String(r.id));
  }
}
