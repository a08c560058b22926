// The matching engine's vocabulary: pair rules, order input, and what a placement or cancel reports.
// Money is bigint minor units throughout: prices in quote minor units per 1 BTC, amounts in satoshi.

export type Side = 'buy' | 'sell';
export type OrderType = 'limit' | 'market';
export type TimeInForce = 'gtc' | 'ioc' | 'fok';
export type OrderStatus = 'open' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected';

/** One pair's trading rules, filled by the caller from config. */
export interface PairRules {
  symbol: string;
  base: string;
  quote: string;
  quoteDecimals: number;
  /** Always 8: amounts are satoshi and quoteOf divides by 10^8. */
  baseDecimals: number;
  /** Prices are multiples of this, in quote minor units (1n = 0.01 EUR). */
  priceTick: bigint;
  /** Amounts are multiples of this, in satoshi. */
  amountStep: bigint;
  minAmount: bigint;
  maxAmount: bigint;
  /** Parts per million of what the side receives: 0.10 % is 1000n. */
  makerFeePpm: bigint;
  takerFeePpm: bigint;
}

/** An order as the caller hands it to the book. */
export interface OrderInput {
  id: string;
  ownerId: string;
  side: Side;
  type: OrderType;
  /** Required for limit orders, absent for market orders. */
  price?: bigint;
  amount: bigint;
  /** Market orders never rest, whatever this says; `fok` still means all or nothing for them. */
  timeInForce: TimeInForce;
  postOnly: boolean;
}

/** A resting order as read back from the database, for `restore`. */
export interface RestingOrderInput extends OrderInput {
  /** What is still open: 0 < remaining ≤ amount. */
  remaining: bigint;
  sequence: bigint;
}

/** Refusals the book can answer with; VALIDATION_FAILED names the field. */
export type RefusalCode = 'VALIDATION_FAILED' | 'ORDER_WOULD_TAKE' | 'ORDER_NOT_FILLABLE' | 'NO_LIQUIDITY';

export interface Refusal {
  code: RefusalCode;
  message: string;
  /** The request field at fault (snake_case, as the client sent it), for VALIDATION_FAILED. */
  field?: string;
}

/** Why an accepted order ended with part of it unfilled. */
export type CancelReason = 'self_trade' | 'immediate_or_cancel';

/**
 * An order's state after an operation. Invariant: filled + remaining = amount, whatever the status
 * (`remaining` of a cancelled order is the part that was cancelled).
 */
export interface OrderState {
  id: string;
  ownerId: string;
  side: Side;
  type: OrderType;
  price: bigint | undefined;
  amount: bigint;
  filled: bigint;
  remaining: bigint;
  status: OrderStatus;
  /** A cancel reason, or the refusal code when rejected. */
  reason: CancelReason | RefusalCode | undefined;
  /** Time priority; undefined only for a rejected order, which never got one. */
  sequence: bigint | undefined;
  timeInForce: TimeInForce;
  postOnly: boolean;
}

/**
 * One trade, always at the maker's price. The buyer pays `quoteAmount` and receives
 * `qty - buyerFee` satoshi; the seller gives `qty` and receives `quoteAmount - sellerFee`; fee
 * revenue receives both fees. Per currency this nets to zero.
 */
export interface Fill {
  makerOrderId: string;
  makerOwnerId: string;
  takerOrderId: string;
  takerOwnerId: string;
  takerSide: Side;
  price: bigint;
  qty: bigint;
  /** floor(price × qty / 10^8), quote minor units. */
  quoteAmount: bigint;
  /** In satoshi (the buyer receives BTC); maker or taker rate depending on which side bought. */
  buyerFee: bigint;
  /** In quote minor units (the seller receives quote). */
  sellerFee: bigint;
  makerRemaining: bigint;
  makerStatus: 'partially_filled' | 'filled';
}

/** A price level's new total after an operation; 0n means the level is gone. */
export interface LevelChange {
  side: Side;
  price: bigint;
  amount: bigint;
}

export interface PlaceResult {
  /** The incoming order's final state. */
  order: OrderState;
  /** Set exactly when order.status is 'rejected'; nothing in the book changed. */
  refusal: Refusal | undefined;
  fills: readonly Fill[];
  /** Final state of every resting order this placement changed, in the order they traded. */
  makers: readonly OrderState[];
  /** One entry per changed level with its final total, in the order the levels changed. */
  levels: readonly LevelChange[];
  /** Sum of the fills' quoteAmount: what a buyer pays, what a seller receives before fees. */
  quoteAmount: bigint;
  /** The taker's fees over all fills, in the currency it receives (satoshi for a buy, quote for a sell). */
  takerFee: bigint;
}

export interface CancelResult {
  order: OrderState;
  level: LevelChange;
}

/** [price, amount] pairs; bids highest first, asks lowest first. */
export interface Depth {
  bids: [bigint, bigint][];
  asks: [bigint, bigint][];
}
