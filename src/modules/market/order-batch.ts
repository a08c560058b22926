// What one batch of a pair's operations builds up in memory before it is written: the ledger
// changes (its ledger batch), the orders inserted or updated (each once, in its final state), the
// trades, the level changes and the events, in order.
import type { LedgerBatch } from '../ledger/ledger-batch.js';
import type { AppliedPosting } from '../ledger/ledger.types.js';
import type { LevelChange } from './engine/index.js';
import type { EntityManager } from 'typeorm';
import type { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { btc, quoteMajor } from './market-pairs.js';
import type { DepthUpdatePayload, NewTradePayload, OrderView } from './market.events.js';
import type { PairBook } from './order-books.js';
import { orderView } from './order-ops.js';
import type { KeyOutcome } from '../idempotency/idempotency.service.js';
import type { OrderRecord, TradeRecord } from './orders.repository.js';

/** What one batch builds up before it is written. */
export class BatchState {
  /** Orders placed in this batch, in their final state (inserted once). */
  readonly inserted = new Map<string, OrderRecord>();
  /** Orders placed before this batch that it changed (updated once). */
  readonly updated = new Map<string, OrderRecord>();
  readonly trades: { draft: Omit<TradeRecord, 'journalId'>; posting: AppliedPosting }[] = [];
  readonly levels: LevelChange[] = [];
  /** `order` events: views taken at each change. */
  readonly orderEvents: { channel: string; view: OrderView }[] = [];
  readonly keys: KeyOutcome[] = [];
  constructor(
    readonly pb: PairBook,
    /** The accounts and holds the batch locked, and its ledger changes. */
    readonly ledger: LedgerBatch,
    readonly at: Date,
  ) {}

  changed(record: OrderRecord): void {
    record.updatedAt = this.at;
    if (!this.inserted.has(record.id)) this.updated.set(record.id, record);
    const view = orderView(record, this.pb.pair);
    const before = record.announced ?? { filled: 0n, quoteFilled: 0n, feePaid: 0n };
    if (record.filled !== before.filled) {
      const { pair } = this.pb;
      const fee = record.feePaid - before.feePaid;
      view.last_fill = {
        amount: btc(record.filled - before.filled),
        quote_amount: quoteMajor(record.quoteFilled - before.quoteFilled, pair),
        fee: record.feeCurrency === pair.base ? btc(fee) : quoteMajor(fee, pair),
      };
    }
    record.announced = { filled: record.filled, quoteFilled: record.quoteFilled, feePaid: record.feePaid };
    this.orderEvents.push({ channel: record.userChannel, view });
  }

  /**
   * The batch's events, in `tx`: `order` on each owner's channel and on the order's own, then the
   * public `new-trade` (with the trades' ids) and `update-market-depth` frames, each on the bare
   * channel and on its pair's, each depth update with the checksum of the book after it.
   */
  publish(
    tx: EntityManager,
    publisher: RealtimePublisher,
    trades: readonly TradeRecord[],
    tradeIds: readonly string[],
  ): void {
    const { pair, depth } = this.pb;
    for (const { channel, view } of this.orderEvents) {
      publisher.publish(tx, channel, 'order', view);
      publisher.publish(tx, view.id, 'order', view);
    }
    trades.forEach((trade, i) => {
      const payload: NewTradePayload = {
        price: quoteMajor(trade.price, pair),
        traded_btc: btc(trade.amount),
        timestamp: this.at.getTime(),
        currency: pair.quote,
        pair: pair.symbol,
        amount: btc(trade.amount),
        side: trade.takerSide,
        id: Number(tradeIds[i]),
      };
      publisher.publish(tx, 'trade', 'new-trade', payload);
      publisher.publish(tx, `trade:${pair.symbol}`, 'new-trade', payload);
    });
    const seconds = Math.floor(this.at.getTime() / 1000);
    for (const level of this.levels) {
      const payload: DepthUpdatePayload = {
        category: level.side,
        timestamp: seconds,
        amount: btc(level.amount),
        price: quoteMajor(level.price, pair),
        currency: pair.quote,
        pair: pair.symbol,
        checksum: depth.apply(level),
      };
      publisher.publish(tx, 'market-depth', 'update-market-depth', payload);
      publisher.publish(tx, `market-depth:${pair.symbol}`, 'update-market-depth', payload);
    }
  }
}
