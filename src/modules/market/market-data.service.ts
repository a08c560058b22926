// What the exchange shows: the 24 h ticker (from the one-minute candles, at most 1,440 rows), the
// depth snapshot consistent with its channel's seq, public trades and candles, and a user's own
// orders and fills with the user channel's as_of_seq.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { bookChecksum } from './engine/index.js';
import { formatTrimmed, toDecimalString } from '../../shared/money.js';
import { averagePrice, BASE_DECIMALS, btc, quoteMajor, type MarketPair } from './market-pairs.js';
import type { DepthSnapshotPayload, TickPayload } from './market.events.js';
import { OrderBooks, type PairBook } from './order-books.js';
import type { CandleInterval } from './orders.repository.js';
import { Transactions } from '../../core/database/transactions.js';

export interface PublicTrade {
  id: number;
  pair: string;
  price: number;
  amount: number;
  side: 'buy' | 'sell';
  /** Milliseconds, as in new-trade. */
  timestamp: number;
}

export interface Candle {
  /** Start of the interval, Unix seconds. */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface OwnTrade extends PublicTrade {
  order_id: string;
  role: 'maker' | 'taker';
  fee: number;
  fee_currency: string;
  quote_amount: number;
}

const CANDLE_SECONDS: Record<CandleInterval, number> = { '1m': 60, '5m': 300, '1h': 3600, '1d': 86400 };
/** Most candles one request returns. */
export const MAX_CANDLES = 1000;
/** Candles a request without `from` returns at most. */
const DEFAULT_CANDLES = 100;
/** Price levels per side of a depth request without `levels`. */
const DEFAULT_DEPTH_LEVELS = 50;

@Injectable()
export class MarketData {
  constructor(
    private readonly transactions: Transactions,
    @InjectDataSource() private readonly db: DataSource,
    private readonly books: OrderBooks,
    private readonly publisher: RealtimePublisher,
  ) {}

  /** The pairs and their rules, as decimal strings. */
  pairViews() {
    const fees = (ppm: bigint) => formatTrimmed(ppm, 6);
    return [...this.books.pairs.values()].map((pair) => ({
      symbol: pair.symbol,
      base: pair.base,
      quote: pair.quote,
      price_tick: toDecimalString(pair.priceTick, pair.quoteDecimals),
      amount_step: toDecimalString(pair.amountStep, BASE_DECIMALS),
      min_amount: toDecimalString(pair.minAmount, BASE_DECIMALS),
      max_amount: toDecimalString(pair.maxAmount, BASE_DECIMALS),
      max_price: toDecimalString(pair.maxPrice, pair.quoteDecimals),
      maker_fee: fees(pair.rules.makerFeePpm),
      taker_fee: fees(pair.rules.takerFeePpm),
    }));
  }

  /** GET /market/:pair/ticker: the pair's 24 h figures, read outside any transaction. */
  publicTicker(pair: MarketPair): Promise<TickPayload> {
    return this.ticker(this.db, pair);
  }

  /** GET /market/:pair/depth: the book at `levels` per side, with the seq of `market-depth:PAIR`. */
  async depth(pair: MarketPair, levels = DEFAULT_DEPTH_LEVELS): Promise<DepthSnapshotPayload> {
    const [depth] = await this.depths([pair], `market-depth:${pair.symbol}`, levels);
    return depth;
  }

  /** The pair's 24 h figures, with the book's best bid and ask as given (or read from its orders). */
  async ticker(
    manager: EntityManager | DataSource,
    pair: MarketPair,
    book?: { bid: bigint | undefined; ask: bigint | undefined },
  ): Promise<TickPayload> {
    const { rows } = await sql<{
      high: string | null;
      low: string | null;
      volume: string | null;
      quote_volume: string | null;
      first: string | null;
      last_24h: string | null;
      last: string | null;
      bid: string | null;
      ask: string | null;
      now: Date;
    }>(
      manager,
      `SELECT c.high, c.low, c.volume, c.quote_volume, c.first, c.last_24h,
              (SELECT price FROM trades WHERE pair = $1 ORDER BY id DESC LIMIT 1) AS last,
              ${
                book
                  ? 'NULL AS bid, NULL AS ask'
                  : `(SELECT max(price) FROM orders WHERE pair = $1 AND side = 'buy' AND status IN ('open', 'partially_filled')) AS bid,
              (SELECT min(price) FROM orders WHERE pair = $1 AND side = 'sell' AND status IN ('open', 'partially_filled')) AS ask`
              },
              now()
         FROM (SELECT max(high) AS high, min(low) AS low, sum(volume) AS volume, sum(quote_volume) AS quote_volume,
                      (array_agg(open ORDER BY bucket))[1] AS first, (array_agg(close ORDER BY bucket DESC))[1] AS last_24h
                 FROM market_candles
                WHERE pair = $1 AND interval = '1m' AND bucket > now() - interval '24 hours') c`,
      [pair.symbol],
    );
    const row = rows[0];
    const price = (value: string | bigint | null | undefined) =>
      value === null || value === undefined ? null : quoteMajor(BigInt(value), pair);
    const volume = BigInt(row.volume ?? 0);
    const vwap = averagePrice(BigInt(row.quote_volume ?? 0), volume);
    return {
      pair: pair.symbol,
      last: price(row.last),
      bid: price(book ? book.bid : row.bid),
      ask: price(book ? book.ask : row.ask),
      high: price(row.high),
      low: price(row.low),
      volume: btc(volume),
      vwap: price(vwap),
      change: row.first === null || row.last_24h === null ? null : price(BigInt(row.last_24h) - BigInt(row.first)),
      timestamp: Math.floor(new Date(row.now).getTime() / 1000),
    };
  }

  /** Publishes the pair's tick in `tx` (after its trades, from the book in memory). */
  async publishTick(tx: EntityManager, pb: PairBook): Promise<void> {
    const tick = await this.ticker(tx, pb.pair, { bid: pb.book.bestBid(), ask: pb.book.bestAsk() });
    this.publisher.publish(tx, 'ticker', 'tick', tick);
    this.publisher.publish(tx, `ticker:${pb.pair.symbol}`, 'tick', tick);
  }

  /** Every pair's tick, each in a transaction of its own (the worker's periodic tick). */
  async publishAllTicks(): Promise<number> {
    for (const pair of this.books.pairs.values()) {
      await this.transactions.run(async (tx) => {
        const tick = await this.ticker(tx, pair);
        this.publisher.publish(tx, 'ticker', 'tick', tick);
        this.publisher.publish(tx, `ticker:${pair.symbol}`, 'tick', tick);
      });
    }
    return this.books.pairs.size;
  }

  /**
   * The books of `pairs` aggregated by price (best first, at most `levels` per side; the checksum
   * covers the top 10 whatever `levels` is) with `channel`'s latest seq, read in one snapshot:
   * applying the channel's later updates of a pair to its book gives the server's.
   */
  async depths(
    pairs: readonly MarketPair[],
    channel: string,
    levels = Number.POSITIVE_INFINITY,
  ): Promise<DepthSnapshotPayload[]> {
    const { rows } = await sql<{
      seq: string | null;
      pair: string | null;
      side: 'buy' | 'sell' | null;
      price: string | null;
      amount: string | null;
    }>(
      this.db,
      `SELECT (SELECT seq FROM channel_seq WHERE channel = $2) AS seq, l.pair, l.side, l.price, l.amount
         FROM (SELECT 1) one
         LEFT JOIN (SELECT pair, side, price, sum(amount - filled) AS amount FROM orders
                     WHERE pair = ANY($1::text[]) AND status IN ('open', 'partially_filled') GROUP BY pair, side, price) l ON true`,
      [pairs.map((p) => p.symbol), channel],
    );
    const seq = Number(rows[0]?.seq ?? 0);
    return pairs.map((pair) => {
      const bids: [bigint, bigint][] = [];
      const asks: [bigint, bigint][] = [];
      for (const row of rows) {
        if (row.pair !== pair.symbol) continue;
        (row.side === 'buy' ? bids : asks).push([BigInt(row.price!), BigInt(row.amount!)]);
      }
      bids.sort((a, b) => (a[0] > b[0] ? -1 : 1));
      asks.sort((a, b) => (a[0] < b[0] ? -1 : 1));
      const major = (side: [bigint, bigint][]) =>
        side.slice(0, levels).map(([price, amount]) => [quoteMajor(price, pair), btc(amount)] as [number, number]);
      return { pair: pair.symbol, bids: major(bids), asks: major(asks), seq, checksum: bookChecksum({ bids, asks }) };
    });
  }

  /** Public trades, newest first, before `beforeId` when given. */
  async trades(pair: MarketPair, limit: number, beforeId?: number): Promise<PublicTrade[]> {
    const { rows } = await sql<{
      id: string;
      price: string;
      amount: string;
      taker_side: 'buy' | 'sell';
      created_at: Date;
    }>(
      this.db,
      `SELECT id, price, amount, taker_side, created_at FROM trades
        WHERE pair = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
      [pair.symbol, beforeId ?? null, limit],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      pair: pair.symbol,
      price: quoteMajor(BigInt(row.price), pair),
      amount: btc(BigInt(row.amount)),
      side: row.taker_side,
      timestamp: row.created_at.getTime(),
    }));
  }

  /**
   * OHLCV of `interval` between `from` and `to` (Unix seconds), oldest first; `to` is now by
   * default, `from` DEFAULT_CANDLES intervals before `to`.
   */
  async candles(
    pair: MarketPair,
    interval: CandleInterval,
    from?: number,
    to = Math.floor(Date.now() / 1000),
  ): Promise<Candle[]> {
    from ??= Math.max(0, to - DEFAULT_CANDLES * CANDLE_SECONDS[interval]);
    if (to < from) throw DomainError.validation('to', 'to must not be before from');
    if ((to - from) / CANDLE_SECONDS[interval] > MAX_CANDLES) {
      throw DomainError.validation('from', `at most ${MAX_CANDLES} candles per request: narrow from..to`);
    }
    const { rows } = await sql<{
      bucket: Date;
      open: string;
      high: string;
      low: string;
      close: string;
      volume: string;
    }>(
      this.db,
      `SELECT bucket, open, high, low, close, volume FROM market_candles
        WHERE pair = $1 AND interval = $2 AND bucket >= to_timestamp($3) AND bucket <= to_timestamp($4)
        ORDER BY bucket LIMIT $5`,
      [pair.symbol, interval, from, to, MAX_CANDLES],
    );
    return rows.map((row) => ({
      time: Math.floor(row.bucket.getTime() / 1000),
      open: quoteMajor(BigInt(row.open), pair),
      high: quoteMajor(BigInt(row.high), pair),
      low: quoteMajor(BigInt(row.low), pair),
      close: quoteMajor(BigInt(row.close), pair),
      volume: btc(BigInt(row.volume)),
    }));
  }

  /**
   * A user's fills, newest first, with the user channel's seq read in the same snapshot (one
   * statement, so it reads users.channel itself: a UsersService call would be another snapshot).
   */
  async userTrades(
    userId: string,
    filter: { pair?: MarketPair; limit: number; offset: number },
  ): Promise<{ trades: OwnTrade[]; asOfSeq: number }> {
    const { rows } = await sql<{
      id: string | null;
      pair: string;
      price: string;
      amount: string;
      quote_amount: string;
      taker_side: 'buy' | 'sell';
      created_at: Date;
      order_id: string;
      role: 'maker' | 'taker';
      fee: string;
      as_of_seq: string | null;
    }>(
      this.db,
      `SELECT t.id, t.pair, t.price, t.amount, t.quote_amount, t.taker_side, t.created_at, t.order_id, t.role, t.fee,
              (SELECT cs.seq FROM users u JOIN channel_seq cs ON cs.channel = u.channel WHERE u.id = $1) AS as_of_seq
         FROM (SELECT 1) one
         LEFT JOIN (
           SELECT id, pair, price, amount, quote_amount, taker_side, created_at, order_id, role, fee FROM (
             SELECT id, pair, price, amount, quote_amount, taker_side, created_at, maker_order_id AS order_id, 'maker' AS role,
                    CASE WHEN taker_side = 'buy' THEN seller_fee ELSE buyer_fee END AS fee
               FROM trades WHERE maker_user_id = $1 AND ($2::text IS NULL OR pair = $2)
             UNION ALL
             SELECT id, pair, price, amount, quote_amount, taker_side, created_at, taker_order_id, 'taker',
                    CASE WHEN taker_side = 'buy' THEN buyer_fee ELSE seller_fee END
               FROM trades WHERE taker_user_id = $1 AND ($2::text IS NULL OR pair = $2)
           ) mine ORDER BY id DESC, role LIMIT $3 OFFSET $4
         ) t ON true`,
      [userId, filter.pair?.symbol ?? null, filter.limit, filter.offset],
    );
    const trades = rows.flatMap((row) => {
      if (row.id === null) return [];
      const pair = this.books.pairs.get(row.pair)!;
      // The side of the user: the taker's, or the other one for a maker.
      const side = row.role === 'taker' ? row.taker_side : row.taker_side === 'buy' ? 'sell' : 'buy';
      const feeCurrency = side === 'buy' ? pair.base : pair.quote;
      return [
        {
          id: Number(row.id),
          pair: row.pair,
          price: quoteMajor(BigInt(row.price), pair),
          amount: btc(BigInt(row.amount)),
          quote_amount: quoteMajor(BigInt(row.quote_amount), pair),
          side,
          timestamp: row.created_at.getTime(),
          order_id: row.order_id,
          role: row.role,
          fee: feeCurrency === pair.base ? btc(BigInt(row.fee)) : quoteMajor(BigInt(row.fee), pair),
          fee_currency: feeCurrency,
        } satisfies OwnTrade,
      ];
    });
    return { trades, asOfSeq: Number(rows[0]?.as_of_seq ?? 0) };
  }
}
