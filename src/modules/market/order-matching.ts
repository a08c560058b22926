// One batch of a pair's order operations (placements and cancels) in one transaction, under the
// book row's lock: the engine matches in memory, every fill settles through the transaction's
// ledger batch (ledger-batch.ts: funds held at placement are taken as fills happen, the rest is
// released when an order ends), and the
// order and trade rows, the candles and every event they cause are written in the same
// transaction. Each operation stands or falls alone: a refused one changes nothing.
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError } from '../../core/errors/domain-error.js';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { toDecimalString } from '../../shared/money.js';
import { AccountsService } from '../accounts/accounts.service.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { LedgerService } from '../ledger/ledger.service.js';
import type { AppliedPosting } from '../ledger/ledger.types.js';
import { buyLock, validateOrder, type Fill, type OrderInput } from './engine/index.js';
import { BASE_DECIMALS, quoteMajor, type MarketPair } from './market-pairs.js';
import type { OrderView } from './market.events.js';
import { MarketData } from './market-data.service.js';
import { BatchState } from './order-batch.js';
import { OrderBooks, type PairBook } from './order-books.js';
import {
  orderHold,
  orderView,
  refusal,
  type CancelOp,
  type OpOutcome,
  type OrderOp,
  type PlaceOp,
  type Wallets,
} from './order-ops.js';
import { OrdersRepository, type OrderRecord, type TradeRecord } from './orders.repository.js';
import { tradePosting } from './trade-posting.js';

/** An operation's outcome known before the book is touched (from its idempotency key), if any. */
type Early = OpOutcome | { sameAs: number } | undefined;

@Injectable()
export class OrderMatching {
  constructor(
    private readonly books: OrderBooks,
    private readonly repository: OrdersRepository,
    private readonly ledger: LedgerService,
    private readonly accounts: AccountsService,
    private readonly idempotency: IdempotencyService,
    private readonly publisher: RealtimePublisher,
    private readonly marketData: MarketData,
  ) {}

  /**
   * Runs `ops` on `symbol`'s book in `tx`; one outcome per operation, in order, and the book copy
   * it changed (current again once `tx` commits: OrderBooks.committed).
   */
  async execute(
    tx: EntityManager,
    symbol: string,
    ops: readonly OrderOp[],
  ): Promise<{ outcomes: OpOutcome[]; book: PairBook }> {
    const pb = await this.books.acquire(tx, symbol);
    // From here the copy may run ahead of the database until this transaction commits.
    pb.stale = true;
    const outcomes: Early[] = await this.replays(tx, ops);
    const places = ops.flatMap((op, i) => (op.kind === 'place' && !outcomes[i] ? [op] : []));
    const taken = await this.repository.clientOrderIdsTaken(
      tx,
      places.flatMap((op) => (op.order.clientOrderId ? [[op.userId, op.order.clientOrderId] as const] : [])),
    );
    const wallets = await this.takerWallets(pb.pair, places);
    const { accountIds, holdReferences } = this.foreseen(
      pb,
      ops.filter((_op, i) => !outcomes[i]),
      wallets,
    );
    const ledger = this.ledger.batch();
    await ledger.lock(tx, accountIds);
    await ledger.lockHolds(tx, holdReferences);
    const state = new BatchState(pb, ledger, new Date());
    const coids = new Set(taken);
    for (const [i, op] of ops.entries()) {
      const early = outcomes[i];
      if (early && 'sameAs' in early) outcomes[i] = outcomes[early.sameAs];
      if (early) continue;
      try {
        outcomes[i] =
          op.kind === 'place'
            ? await this.place(tx, state, op, wallets.get(op.userId)!, coids)
            : this.cancel(state, op);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        outcomes[i] = { refused: error };
      }
      if (op.kind === 'place' && op.idempotency) {
        const outcome = outcomes[i];
        const { userId, key } = op.idempotency;
        state.keys.push(
          'value' in outcome ? { userId, key, response: outcome.value } : { userId, key, abandoned: true },
        );
      }
    }
    await this.write(tx, state);
    return { outcomes: outcomes as OpOutcome[], book: pb };
  }

  /**
   * Keys used before: their stored answers (or conflicts) stand in for the operations; an
   * operation repeating a key of an earlier one of the batch gets that one's answer.
   */
  private async replays(tx: EntityManager, ops: readonly OrderOp[]): Promise<Early[]> {
    const claims = await this.idempotency.claim<OrderView>(
      tx,
      ops.map((op) => (op.kind === 'place' ? op.idempotency : undefined)),
    );
    return claims.map((claim) => {
      if (claim.fresh) return undefined;
      if ('response' in claim) return { value: claim.response };
      if ('refused' in claim) return { refused: claim.refused };
      return { sameAs: claim.sameAs };
    });
  }

  /**
   * Each placing user's wallets of the pair's two currencies (null where there is none yet: one
   * is opened only for an order that is accepted, so a refusal opens nothing).
   */
  private async takerWallets(pair: MarketPair, places: readonly PlaceOp[]): Promise<Map<string, Wallets>> {
    const users = [...new Set(places.map((op) => op.userId))];
    const [base, quote] = await Promise.all([
      this.accounts.committedWalletIds(users, pair.base),
      this.accounts.committedWalletIds(users, pair.quote),
    ]);
    return new Map(users.map((userId, i) => [userId, { base: base[i], quote: quote[i] }]));
  }

  /**
   * The accounts and holds the batch will touch, as far as they can be told before matching: the
   * placing users' wallets, the makers each placement would meet in the book as it is now, the
   * fee accounts, and the orders to cancel. Locked in one statement each (id order); a maker the
   * batch reaches only through its own earlier placements is locked when it is met.
   */
  private foreseen(
    pb: PairBook,
    ops: readonly OrderOp[],
    wallets: Map<string, Wallets>,
  ): { accountIds: string[]; holdReferences: string[] } {
    const accountIds = [...this.feeAccounts(pb.pair)];
    const holdReferences: string[] = [];
    const touch = (record: OrderRecord | undefined) => {
      if (!record) return;
      accountIds.push(record.baseAccountId, record.quoteAccountId);
      if (record.holdReference) holdReferences.push(record.holdReference);
    };
    for (const op of ops) {
      if (op.kind === 'cancel') {
        touch(pb.records.get(op.orderId));
        continue;
      }
      const own = wallets.get(op.userId)!;
      for (const id of [own.base, own.quote]) if (id) accountIds.push(id);
      const input = this.engineInput(op);
      if (validateOrder(pb.pair.rules, input)) continue;
      for (const fill of pb.book.simulate(input).fills) touch(pb.records.get(fill.makerOrderId));
    }
    return { accountIds, holdReferences };
  }

  /** The fee revenue accounts of the pair's currencies (a shard of each, fixed per pair). */
  private feeAccounts(pair: MarketPair): [base: string, quote: string] {
    const spread = [...this.books.pairs.keys()].indexOf(pair.symbol);
    return [
      this.accounts.systemAccount('fee_revenue', pair.base, '', spread),
      this.accounts.systemAccount('fee_revenue', pair.quote, '', spread),
    ];
  }

  private engineInput(op: PlaceOp): OrderInput {
    const { id, side, type, price, amount, timeInForce, postOnly } = op.order;
    return { id, ownerId: op.userId, side, type, price, amount, timeInForce, postOnly };
  }

  private async place(
    tx: EntityManager,
    state: BatchState,
    op: PlaceOp,
    wallet: Wallets,
    coids: Set<string>,
  ): Promise<OpOutcome> {
    const { pb, ledger, at } = state;
    const { pair, book } = pb;
    const input = this.engineInput(op);
    const invalid = validateOrder(pair.rules, input);
    if (invalid) throw refusal(invalid.code, invalid.message, invalid.field);
    if (input.price !== undefined && input.price > pair.maxPrice) {
      throw refusal(
        'VALIDATION_FAILED',
        `price must be at most ${quoteMajor(pair.maxPrice, pair)} ${pair.quote}`,
        'price',
      );
    }
    const coid = op.order.clientOrderId;
    if (coid && coids.has(`${op.userId}/${coid}`)) {
      throw refusal(
        'VALIDATION_FAILED',
        'client_order_id is already used by another of your orders',
        'client_order_id',
      );
    }
    const preview = book.simulate(input);
    if (preview.refusal) throw refusal(preview.refusal.code, preview.refusal.message, preview.refusal.field);

    // Makers the batch reaches through its own earlier placements were not foreseen: lock them now.
    const makers = preview.fills.map((fill) => pb.records.get(fill.makerOrderId)!);
    await ledger.lock(
      tx,
      makers.flatMap((m) => [m.baseAccountId, m.quoteAccountId]),
    );
    await ledger.lockHolds(
      tx,
      makers.flatMap((m) => (m.holdReference ? [m.holdReference] : [])),
    );

    // The funds: a sell its BTC, a limit buy price × amount (rounded up), a market buy what its fills cost.
    const isBuy = input.side === 'buy';
    const lockAmount = !isBuy
      ? input.amount
      : input.type === 'limit'
        ? buyLock(input.price!, input.amount)
        : preview.quoteAmount;
    const reference = orderHold(input.id);
    const paying = isBuy ? wallet.quote : wallet.base;
    if (lockAmount > 0n) {
      if (!paying) {
        const [code, decimals] = isBuy ? [pair.quote, pair.quoteDecimals] : [pair.base, BASE_DECIMALS];
        throw refusal(
          'INSUFFICIENT_BALANCE',
          `insufficient balance: available ${toDecimalString(0n, decimals)} ${code}`,
        );
      }
      ledger.hold({ accountId: paying, amount: lockAmount, reference, trading: true });
    }
    // The wallet the order is paid into, opened with its first accepted order.
    for (const side of ['base', 'quote'] as const) {
      if (wallet[side]) continue;
      const opened = await this.accounts.ensureWallet(tx, op.userId, side === 'base' ? pair.base : pair.quote);
      await ledger.lock(tx, [opened]);
      wallet[side] = opened;
    }
    const result = book.place(input);
    const taker: OrderRecord = {
      id: input.id,
      userId: op.userId,
      userChannel: op.userChannel,
      pair: pair.symbol,
      side: input.side,
      type: input.type,
      price: input.price ?? null,
      amount: input.amount,
      filled: 0n,
      quoteFilled: 0n,
      feePaid: 0n,
      feeCurrency: isBuy ? pair.base : pair.quote,
      status: 'open',
      reason: null,
      timeInForce: input.timeInForce,
      postOnly: input.postOnly,
      clientOrderId: coid,
      sequence: result.order.sequence!,
      holdReference: lockAmount > 0n ? reference : null,
      sessionId: op.sessionId,
      cancelOnDisconnect: op.order.cancelOnDisconnect,
      baseAccountId: wallet.base!,
      quoteAccountId: wallet.quote!,
      createdAt: at,
      updatedAt: at,
    };
    state.inserted.set(taker.id, taker);
    if (coid) coids.add(`${op.userId}/${coid}`);
    if (result.fills.length > 0) this.settle(state, taker, result.fills);

    taker.status = result.order.status === 'rejected' ? 'cancelled' : result.order.status;
    taker.reason = result.order.reason ?? null;
    if (taker.status === 'open' || taker.status === 'partially_filled') pb.records.set(taker.id, taker);
    else this.releaseRest(state, taker);
    state.levels.push(...result.levels);
    state.changed(taker);
    return { value: orderView(taker, pair) };
  }

  /** Settles a taker's fills as one journal, then releases what completed makers still hold. */
  private settle(state: BatchState, taker: OrderRecord, fills: readonly Fill[]): void {
    const { pb } = state;
    const [base, quote] = this.feeAccounts(pb.pair);
    const trade = tradePosting(pb.pair, taker, fills, (id) => pb.records.get(id)!, { base, quote });
    for (const maker of trade.makers) {
      if (maker.status === 'filled') pb.records.delete(maker.id);
      state.changed(maker);
    }
    const posting = state.ledger.post(trade.request);
    for (const draft of trade.drafts) state.trades.push({ draft, posting });
    // Only once the journal took what it needed from the makers' holds.
    for (const maker of trade.filled) this.releaseRest(state, maker);
  }

  /** An order that ended gives back what its hold still sets aside (a buy that paid less, a remainder). */
  private releaseRest(state: BatchState, order: OrderRecord): void {
    if (!order.holdReference) return;
    state.ledger.release(order.holdReference, true);
  }

  private cancel(state: BatchState, op: CancelOp): OpOutcome {
    const { pb } = state;
    const record = pb.records.get(op.orderId);
    if (!record || record.userId !== op.userId) {
      throw refusal('ORDER_NOT_CANCELLABLE', 'the order is no longer open', 'order_id');
    }
    const cancelled = pb.book.cancel(op.orderId);
    if (!cancelled) throw new Error(`order ${op.orderId} has a record but is not in the ${pb.pair.symbol} book`);
    pb.records.delete(record.id);
    record.status = 'cancelled';
    record.reason = op.reason;
    this.releaseRest(state, record);
    state.levels.push(cancelled.level);
    state.changed(record);
    return { value: orderView(record, pb.pair) };
  }

  /** The batch's ledger changes, rows and events, and its idempotency keys' answers. */
  private async write(tx: EntityManager, state: BatchState): Promise<void> {
    const { pb, at } = state;
    const { pair } = pb;
    const journals = await state.ledger.write(tx);
    const journalOf = new Map<AppliedPosting, string>();
    state.ledger.changes
      .filter((c): c is AppliedPosting => 'request' in c)
      .forEach((p, i) => journalOf.set(p, journals[i].journalId));
    const trades: TradeRecord[] = state.trades.map(({ draft, posting }) => ({
      ...draft,
      journalId: journalOf.get(posting)!,
    }));
    const version = pb.version + 1n;
    const nextSequence = [...state.inserted.values()].reduce(
      (next, order) => (order.sequence >= next ? order.sequence + 1n : next),
      pb.nextSequence,
    );
    const tradeIds = await this.repository.writeBatch(tx, {
      pair: pair.symbol,
      version,
      nextSequence,
      inserted: [...state.inserted.values()],
      updated: [...state.updated.values()],
      trades,
      at,
    });
    state.publish(tx, this.publisher, trades, tradeIds);
    if (trades.length > 0) await this.marketData.publishTick(tx, pb);
    await this.idempotency.settle(tx, state.keys);
    // Committed by the caller, who then marks the copy current (OrderBooks.committed).
    pb.version = version;
    pb.nextSequence = nextSequence;
  }
}
