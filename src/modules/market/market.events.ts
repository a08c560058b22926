// Events of the exchange (contract sections 4 and 5, seed 004): `order` on the owner's channel and
// on the order's own channel, and the public market channels' frames.
import type { OrderStatus, Side, TimeInForce } from './engine/index.js';

/** An order as clients see it (get_orders, place_order's reply, the `order` event). */
export interface OrderView {
  id: string;
  client_order_id: string | null;
  pair: string;
  side: Side;
  type: 'limit' | 'market';
  price: number | null;
  amount: number;
  filled: number;
  remaining: number;
  average_price: number | null;
  fee_paid: number;
  fee_currency: string;
  status: OrderStatus;
  reason?: string;
  time_in_force: TimeInForce;
  post_only: boolean;
  cancel_on_disconnect: boolean;
  created_at: string;
  updated_at: string;
  /**
   * On an `order` event that announces fills: what was filled since the order's previous event
   * (BTC; what it cost or brought in the quote currency, before fees; the fee, in fee_currency).
   */
  last_fill?: { amount: number; quote_amount: number; fee: number };
}

/** `new-trade` on `trade` and `trade:PAIR`: seed 004's fields, then ours. */
export interface NewTradePayload {
  price: number;
  traded_btc: number;
  /** Milliseconds. */
  timestamp: number;
  currency: string;
  pair: string;
  amount: number;
  /** The taker's side. */
  side: Side;
  id: number;
}

/** `tick` on `ticker` and `ticker:PAIR`: the pair's last 24 hours. */
export interface TickPayload {
  pair: string;
  last: number | null;
  bid: number | null;
  ask: number | null;
  high: number | null;
  low: number | null;
  /** BTC traded in the last 24 hours. */
  volume: number;
  vwap: number | null;
  /** Last price minus the first price of the 24 hours (quote currency). */
  change: number | null;
  /** Unix seconds. */
  timestamp: number;
}

/** `update-market-depth` on `market-depth` and `market-depth:PAIR`: a level's new total. */
export interface DepthUpdatePayload {
  category: 'buy' | 'sell';
  /** Unix seconds. */
  timestamp: number;
  /** The new total at this price; 0 when the level is gone. */
  amount: number;
  price: number;
  currency: string;
  pair: string;
  /** CRC32 of the pair's top 10 levels after this change (contract section 5). */
  checksum: number;
}

/** `market-depth-snapshot`: the pair's whole book at the channel's `seq`. */
export interface DepthSnapshotPayload {
  pair: string;
  bids: [number, number][];
  asks: [number, number][];
  seq: number;
  checksum: number;
}

declare module '../../core/realtime/realtime.types.js' {
  interface RealtimeEventMap {
    order: OrderView;
    'new-trade': NewTradePayload;
    tick: TickPayload;
    'update-market-depth': DepthUpdatePayload;
  }
}
