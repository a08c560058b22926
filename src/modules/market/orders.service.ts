// The exchange's use cases on /user: place_order, cancel_order, cancel_all_orders, get_orders and
// get_trades (contract section 5). Requests are read exactly here; placements and cancels run in
// their pair's lane (order-lanes.ts), a batch per transaction (order-matching.ts).
import { randomUUID } from 'node:crypto';
import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DomainError } from '../../core/errors/domain-error.js';
import { sessionKeyOf, type AuthenticatedPrincipal } from '../../core/realtime/realtime.types.js';
import { readPositiveDecimal, type DecimalRefusal } from '../../shared/money.js';
import { requestHash } from '../idempotency/idempotency.service.js';
import type {
  CancelAllOrdersRequestDto,
  CancelOrderRequestDto,
  GetOrdersRequestDto,
  GetTradesRequestDto,
  PlaceOrderRequestDto,
} from './dto/market-requests.dto.js';
import { BASE_DECIMALS, type MarketPair } from './market-pairs.js';
import type { OrderView } from './market.events.js';
import { MarketData, type OwnTrade } from './market-data.service.js';
import { OrderBooks } from './order-books.js';
import { OrderLanes } from './order-lanes.js';
import { OrderMatching } from './order-matching.js';
import { orderView, type OpOutcome, type OrderOp } from './order-ops.js';
import { OrdersRepository } from './orders.repository.js';
import { Transactions } from '../../core/database/transactions.js';

function numberMessage(field: string, refusal: DecimalRefusal, decimals: number): string {
  switch (refusal) {
    case 'required':
      return `${field} is required`;
    case 'not_a_number':
      return `${field} must be a number such as ${field === 'price' ? '20000.50' : '0.01'}`;
    case 'not_positive':
      return `${field} must be greater than zero`;
    case 'too_many_places':
      return `${field} has more than ${decimals} decimal places`;
    case 'too_many_digits':
      return `${field} has too many digits to be exact as a number: send it as a string`;
    case 'too_large':
      return `${field} is too large`;
  }
}

/** A positive decimal of the request in minor units, or VALIDATION_FAILED naming the field. */
function exactNumber(input: unknown, decimals: number, field: string): bigint {
  const reading = readPositiveDecimal(input, decimals);
  if (reading.ok) return reading.value;
  throw DomainError.validation(field, numberMessage(field, reading.refusal, decimals));
}

@Injectable()
export class OrdersService implements BeforeApplicationShutdown {
  private readonly lanes: OrderLanes<OrderOp, OpOutcome>;

  constructor(
    private readonly transactions: Transactions,
    @InjectDataSource() private readonly db: DataSource,
    private readonly books: OrderBooks,
    private readonly matching: OrderMatching,
    private readonly repository: OrdersRepository,
    private readonly marketData: MarketData,
  ) {
    this.lanes = new OrderLanes((pair, ops) => this.runBatch(pair, ops));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.lanes.drained();
  }

  async place(principal: AuthenticatedPrincipal, request: PlaceOrderRequestDto): Promise<OrderView> {
    const pair = this.books.pair(request.pair);
    const amount = exactNumber(request.amount, BASE_DECIMALS, 'amount');
    const price = request.price === undefined ? undefined : exactNumber(request.price, pair.quoteDecimals, 'price');
    if (request.price !== undefined && request.type === 'market') {
      throw DomainError.validation('price', 'price must not be given for a market order');
    }
    const order = {
      id: randomUUID(),
      side: request.side,
      type: request.type,
      price,
      amount,
      timeInForce: request.time_in_force ?? 'gtc',
      postOnly: request.post_only ?? false,
      clientOrderId: request.client_order_id ?? null,
      cancelOnDisconnect: request.cancel_on_disconnect ?? false,
    };
    const key = request.idempotency_key;
    const idempotency = key
      ? {
          userId: principal.userId,
          key,
          requestType: 'place_order',
          hash: requestHash({
            pair: pair.symbol,
            side: order.side,
            type: order.type,
            price: price?.toString() ?? null,
            amount: amount.toString(),
            time_in_force: order.timeInForce,
            post_only: order.postOnly,
            client_order_id: order.clientOrderId,
            cancel_on_disconnect: order.cancelOnDisconnect,
          }),
        }
      : undefined;
    return this.settled(
      await this.lanes.submit(pair.symbol, {
        kind: 'place',
        userId: principal.userId,
        userChannel: principal.channel,
        sessionId: sessionKeyOf(principal),
        order,
        idempotency,
      }),
    );
  }

  async cancel(userId: string, request: CancelOrderRequestDto): Promise<OrderView> {
    if ((request.order_id === undefined) === (request.client_order_id === undefined)) {
      throw DomainError.validation('order_id', 'give exactly one of order_id and client_order_id');
    }
    const record = await this.repository.find(this.db, userId, {
      orderId: request.order_id,
      clientOrderId: request.client_order_id,
    });
    if (!record) throw new DomainError('ORDER_NOT_FOUND', 'order not found', { field: 'order_id' });
    if (record.status !== 'open' && record.status !== 'partially_filled') {
      throw new DomainError('ORDER_NOT_CANCELLABLE', `the order is ${record.status}`, { field: 'order_id' });
    }
    return this.settled(
      await this.lanes.submit(record.pair, { kind: 'cancel', userId, orderId: record.id, reason: 'cancelled' }),
    );
  }

  /** Cancels every open order of the user (of one pair); orders that ended meanwhile are skipped. */
  async cancelAll(userId: string, request: CancelAllOrdersRequestDto): Promise<OrderView[]> {
    const pair = request.pair === undefined ? undefined : this.books.pair(request.pair);
    const open = await this.repository.openOrderIds(this.db, userId, pair?.symbol);
    return this.cancelEach(userId, open, 'cancelled');
  }

  /** The dead man's switch: a session's cancel_on_disconnect orders, once its sockets are gone. */
  async cancelForDisconnect(sessionKey: string): Promise<OrderView[]> {
    const orders = await this.repository.disconnectOrders(sessionKey);
    const cancelled: OrderView[] = [];
    for (const userId of new Set(orders.map((o) => o.user_id))) {
      const own = orders.filter((o) => o.user_id === userId);
      cancelled.push(...(await this.cancelEach(userId, own, 'disconnected')));
    }
    return cancelled;
  }

  async orders(
    userId: string,
    request: GetOrdersRequestDto,
  ): Promise<{ orders: OrderView[]; total: number; as_of_seq: number }> {
    const pair = request.pair === undefined ? undefined : this.books.pair(request.pair);
    const { orders, asOfSeq } = await this.repository.userOrders(userId, {
      status: request.status ?? 'all',
      pair: pair?.symbol,
      limit: request.limit ?? 50,
      offset: request.offset ?? 0,
    });
    return {
      orders: orders.map((record) => orderView(record, this.books.pairs.get(record.pair)!)),
      total: orders.length,
      as_of_seq: asOfSeq,
    };
  }

  async trades(userId: string, request: GetTradesRequestDto): Promise<{ trades: OwnTrade[]; as_of_seq: number }> {
    const pair: MarketPair | undefined = request.pair === undefined ? undefined : this.books.pair(request.pair);
    const { trades, asOfSeq } = await this.marketData.userTrades(userId, {
      pair,
      limit: request.limit ?? 50,
      offset: request.offset ?? 0,
    });
    return { trades, as_of_seq: asOfSeq };
  }

  private async cancelEach(
    userId: string,
    orders: readonly { id: string; pair: string }[],
    reason: 'cancelled' | 'disconnected',
  ): Promise<OrderView[]> {
    const outcomes = await Promise.all(
      orders.map((order) => this.lanes.submit(order.pair, { kind: 'cancel', userId, orderId: order.id, reason })),
    );
    return outcomes.flatMap((outcome) => ('value' in outcome ? [outcome.value] : []));
  }

  private settled(outcome: OpOutcome): OrderView {
    if ('refused' in outcome) throw outcome.refused;
    return outcome.value;
  }

  /** One batch of a pair's operations, in one transaction (retried on deadlock by the ledger). */
  private async runBatch(pair: string, ops: OrderOp[]): Promise<OpOutcome[]> {
    let executed: Awaited<ReturnType<OrderMatching['execute']>> | undefined;
    const outcomes = await this.transactions.run(async (tx) => {
      executed = await this.matching.execute(tx, pair, ops);
      return executed.outcomes;
    });
    this.books.committed(executed!.book);
    return outcomes;
  }
}
