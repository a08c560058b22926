// The operations a pair's lane runs (placements and cancels), their outcomes, and orders as
// clients see them.
import { DomainError } from '../../core/errors/domain-error.js';
import type { KeyClaim } from '../idempotency/idempotency.service.js';
import { averagePrice, btc, quoteMajor, type MarketPair } from './market-pairs.js';
import type { OrderView } from './market.events.js';
import type { OrderRecord } from './orders.repository.js';

export interface PlaceOp {
  kind: 'place';
  userId: string;
  userChannel: string;
  sessionId: string | null;
  order: {
    id: string;
    side: 'buy' | 'sell';
    type: 'limit' | 'market';
    price?: bigint;
    amount: bigint;
    timeInForce: 'gtc' | 'ioc' | 'fok';
    postOnly: boolean;
    clientOrderId: string | null;
    cancelOnDisconnect: boolean;
  };
  idempotency?: KeyClaim;
}

export interface CancelOp {
  kind: 'cancel';
  userId: string;
  orderId: string;
  /** Why: the owner asked, or its session's last socket went (cancel_on_disconnect). */
  reason: 'cancelled' | 'disconnected';
}

export type OrderOp = PlaceOp | CancelOp;
export type OpOutcome = { value: OrderView } | { refused: DomainError };

/** The hold of an order's funds. */
export const orderHold = (orderId: string) => `order:${orderId}`;

export function orderView(record: OrderRecord, pair: MarketPair): OrderView {
  const remaining = record.amount - record.filled;
  const average = averagePrice(record.quoteFilled, record.filled);
  return {
    id: record.id,
    client_order_id: record.clientOrderId,
    pair: record.pair,
    side: record.side,
    type: record.type,
    price: record.price === null ? null : quoteMajor(record.price, pair),
    amount: btc(record.amount),
    filled: btc(record.filled),
    remaining: record.status === 'cancelled' ? 0 : btc(remaining),
    average_price: average === null ? null : quoteMajor(average, pair),
    fee_paid: record.feeCurrency === pair.base ? btc(record.feePaid) : quoteMajor(record.feePaid, pair),
    fee_currency: record.feeCurrency,
    status: record.status,
    ...(record.reason ? { reason: record.reason } : {}),
    time_in_force: record.timeInForce,
    post_only: record.postOnly,
    cancel_on_disconnect: record.cancelOnDisconnect,
    created_at: record.createdAt.toISOString(),
    updated_at: record.updatedAt.toISOString(),
  };
}

/** A user's wallets of a pair's currencies; null until one is opened. */
export interface Wallets {
  base: string | null;
  quote: string | null;
}

export const refusal = (code: DomainError['code'], message: string, field?: string): DomainError =>
  new DomainError(code, message, field ? { field } : {});
