// What `/api/data` (seed 003, contract section 7) makes of the events of a /user connection: the
// seed's `payment`, `verification` and `settlement` frames, each with the subscription keys it
// reaches (a stream name, and the user's account it touches). Pure: the endpoint keeps the state
// (the user's accounts, the subscriptions) and decides what to send.
//
// Sources: `transfer_completed` and `order` (with `last_fill`) on the user channel, `payment` on
// the user's internal `~payments` stream, `verification` on `~verifications`. Core code may not
// import the modules that publish them, so the fields read here are declared here.
import { parseScaled } from '../../../../shared/decimal.js';
import { toMajor } from '../../../../shared/money.js';
import { internalStream, type StreamFrame } from '../../realtime.types.js';

/** The subscription keys that name streams; any other key is one of the user's account numbers. */
export const STREAM_KEYS = ['payments', 'verifications', 'settlements'] as const;

export type Resource = 'transfer' | 'deposit' | 'withdrawal' | 'trade';

export interface PaymentFrame {
  type: 'payment';
  paymentId: string;
  /** The receipt code of the journal that moved the money; null until there is one. */
  signature: string | null;
  sender: string | null;
  recipient: string | null;
  amount: number;
  currency: string;
  resource: Resource;
  status: string;
  /** Unix milliseconds. */
  timestamp: number;
  direction: 'sent' | 'received';
  metadata: { description: string; referenceId: string } & Record<string, unknown>;
  seq: number;
}

export interface VerificationFrame {
  type: 'verification';
  verified: boolean;
  verifiedBy: string;
  /** "45ms": from the code being sent to this attempt; null when unknown. */
  verificationTime: string | null;
  timestamp: number;
  purpose: string;
  /** Why it failed (an error code of contract section 8). */
  reason?: string;
  seq: number;
}

export interface SettlementFrame {
  type: 'settlement';
  paymentId: string;
  signature: string | null;
  status: 'settled' | 'failed';
  /** What reached its destination (0 when the payment failed). */
  finalAmount: number;
  fees: number;
  currency: string;
  /** The currency of `fees`: a sale of BTC pays its fee in the quote currency. */
  feeCurrency: string;
  timestamp: number;
  seq: number;
}

export type DataFrame = PaymentFrame | VerificationFrame | SettlementFrame;

/** A frame for the client, sent if the connection is subscribed to any of `keys`. */
export interface Routed {
  keys: readonly string[];
  frame: DataFrame;
}

export interface Mapped {
  routed: Routed[];
  /**
   * The event names an account of the user's that `accounts` does not know (a wallet opened since
   * they were read): the caller may refresh them and map the event again.
   */
  unknownAccount: boolean;
}

/** The user's wallets as the endpoint knows them. */
export interface OwnAccounts {
  has(accountNumber: string): boolean;
  /** The user's wallet in `currency`, if known. */
  numberOf(currency: string): string | undefined;
}

export interface DataUser {
  id: string;
  /** The user channel id. */
  channel: string;
}

// --- what is read of the source events (their full shapes: src/modules/*) ---

/** modules/ledger/ledger.events.ts TransferCompletedPayload. */
interface TransferCompleted {
  receipt_code: string;
  transaction_id: number;
  amount: number;
  currency: string;
  from_account: string;
  to_account: string;
  fee: number;
}

/** modules/payments/payment-views.ts depositView / withdrawalView. */
interface PaymentView {
  kind: 'deposit' | 'withdrawal';
  payment_id: string;
  request_ref: string;
  status: string;
  amount: number;
  fee: number;
  currency: string;
  receipt_code: string | null;
  service: string | null;
  destination?: string;
}

/** modules/market/market.events.ts OrderView. */
interface OrderView {
  id: string;
  pair: string;
  side: 'buy' | 'sell';
  fee_currency: string;
  last_fill?: { amount: number; quote_amount: number; fee: number };
}

/** modules/verification/verification.events.ts VerificationPayload. */
interface Verification {
  verified: boolean;
  method: string;
  purpose: string;
  reason?: string;
  verification_ms: number | null;
  timestamp: number;
}

const NOTHING: Mapped = { routed: [], unknownAccount: false };
const FAILED_STATUSES = new Set(['failed', 'expired', 'cancelled']);

/** The frames `frame` (an event of the user's /user connection) becomes, and whom they reach. */
export function mapStreamFrame(frame: StreamFrame, user: DataUser, accounts: OwnAccounts): Mapped {
  const at = { seq: frame.seq, timestamp: millisecondsOf(frame.timestamp) };
  switch (frame.event) {
    case 'transfer_completed':
      return frame.channel === user.channel ? fromTransfer(frame.payload as TransferCompleted, at, accounts) : NOTHING;
    case 'order':
      return frame.channel === user.channel ? fromOrder(frame.payload as OrderView, at, accounts) : NOTHING;
    case 'payment':
      return frame.channel === internalStream('payments', user.id)
        ? fromPayment(frame.payload as PaymentView, at, accounts)
        : NOTHING;
    case 'verification':
      return frame.channel === internalStream('verifications', user.id)
        ? fromVerification(frame.payload as Verification, at)
        : NOTHING;
    default:
      return NOTHING;
  }
}

interface At {
  seq: number;
  timestamp: number;
}

/** Keys of a frame: its stream, and the user's account it touches when known. */
const keysOf = (stream: (typeof STREAM_KEYS)[number], account: string | null | undefined): string[] =>
  account ? [stream, account] : [stream];

/**
 * A transfer is final when announced: a payment and its settlement at once. The fee is the
 * sender's (on top of the amount); the receiver sees none.
 */
function fromTransfer(transfer: TransferCompleted, at: At, accounts: OwnAccounts): Mapped {
  const sent = accounts.has(transfer.from_account);
  if (!sent && !accounts.has(transfer.to_account)) return { routed: [], unknownAccount: true };
  const own = sent ? transfer.from_account : transfer.to_account;
  const receipt = transfer.receipt_code;
  const payment: PaymentFrame = {
    type: 'payment',
    paymentId: receipt,
    signature: receipt,
    sender: transfer.from_account,
    recipient: transfer.to_account,
    amount: transfer.amount,
    currency: transfer.currency,
    resource: 'transfer',
    status: 'completed',
    timestamp: at.timestamp,
    direction: sent ? 'sent' : 'received',
    metadata: {
      description: sent ? `transfer to ${transfer.to_account}` : `transfer from ${transfer.from_account}`,
      referenceId: String(transfer.transaction_id),
    },
    seq: at.seq,
  };
  const settlement: SettlementFrame = {
    type: 'settlement',
    paymentId: receipt,
    signature: receipt,
    status: 'settled',
    finalAmount: transfer.amount,
    fees: sent ? transfer.fee : 0,
    currency: transfer.currency,
    feeCurrency: transfer.currency,
    timestamp: at.timestamp,
    seq: at.seq,
  };
  return {
    routed: [
      { keys: keysOf('payments', own), frame: payment },
      { keys: keysOf('settlements', own), frame: settlement },
    ],
    unknownAccount: false,
  };
}

/**
 * A deposit or withdrawal, at each status change; a settlement too once it is final. A deposit's
 * fee comes out of its amount, a withdrawal's on top of it (deposits.service, withdrawals.service).
 */
function fromPayment(view: PaymentView, at: At, accounts: OwnAccounts): Mapped {
  const own = accounts.numberOf(view.currency) ?? null;
  const deposit = view.kind === 'deposit';
  const payment: PaymentFrame = {
    type: 'payment',
    paymentId: view.payment_id,
    signature: view.receipt_code,
    sender: deposit ? view.service : own,
    recipient: deposit ? own : (view.destination ?? null),
    amount: view.amount,
    currency: view.currency,
    resource: view.kind,
    status: view.status,
    timestamp: at.timestamp,
    direction: deposit ? 'received' : 'sent',
    metadata: {
      description: deposit ? `deposit via ${view.service}` : `withdrawal to ${view.destination}`,
      referenceId: view.request_ref,
    },
    seq: at.seq,
  };
  const routed: Routed[] = [{ keys: keysOf('payments', own), frame: payment }];
  const settled = view.status === 'completed';
  if (settled || FAILED_STATUSES.has(view.status)) {
    const frame: SettlementFrame = {
      type: 'settlement',
      paymentId: view.payment_id,
      signature: view.receipt_code,
      status: settled ? 'settled' : 'failed',
      finalAmount: !settled ? 0 : deposit ? minus(view.amount, view.fee) : view.amount,
      fees: settled ? view.fee : 0,
      currency: view.currency,
      feeCurrency: view.currency,
      timestamp: at.timestamp,
      seq: at.seq,
    };
    routed.push({ keys: keysOf('settlements', own), frame });
  }
  return { routed, unknownAccount: own === null };
}

/**
 * One fill of an order (what filled since its previous event): a payment of BTC into the user's
 * BTC wallet (a buy) or out of it (a sale), final at once. The fee is charged in the currency the
 * side receives: BTC for a buy (out of what arrives), the quote currency for a sale.
 */
function fromOrder(order: OrderView, at: At, accounts: OwnAccounts): Mapped {
  const fill = order.last_fill;
  if (!fill) return NOTHING;
  const [base, quote] = order.pair.split('-');
  const own = accounts.numberOf(base) ?? null;
  const buy = order.side === 'buy';
  const market = `market:${order.pair}`;
  // An order's events have no id of their own: the user channel's seq makes one per fill.
  const paymentId = `${order.id}:${at.seq}`;
  const payment: PaymentFrame = {
    type: 'payment',
    paymentId,
    signature: null,
    sender: buy ? market : own,
    recipient: buy ? own : market,
    amount: fill.amount,
    currency: base,
    resource: 'trade',
    status: 'completed',
    timestamp: at.timestamp,
    direction: buy ? 'received' : 'sent',
    metadata: {
      description: `${order.side} ${fill.amount} ${base} on ${order.pair}`,
      referenceId: order.id,
      quoteAmount: fill.quote_amount,
      quoteCurrency: quote,
      fee: fill.fee,
      feeCurrency: order.fee_currency,
    },
    seq: at.seq,
  };
  const settlement: SettlementFrame = {
    type: 'settlement',
    paymentId,
    signature: null,
    status: 'settled',
    finalAmount: order.fee_currency === base ? minus(fill.amount, fill.fee) : fill.amount,
    fees: fill.fee,
    currency: base,
    feeCurrency: order.fee_currency,
    timestamp: at.timestamp,
    seq: at.seq,
  };
  return {
    routed: [
      { keys: keysOf('payments', own), frame: payment },
      { keys: keysOf('settlements', own), frame: settlement },
    ],
    unknownAccount: own === null,
  };
}

function fromVerification(attempt: Verification, at: At): Mapped {
  const frame: VerificationFrame = {
    type: 'verification',
    verified: attempt.verified,
    verifiedBy: attempt.method,
    verificationTime: attempt.verification_ms === null ? null : `${attempt.verification_ms}ms`,
    timestamp: attempt.timestamp,
    purpose: attempt.purpose,
    ...(attempt.reason ? { reason: attempt.reason } : {}),
    seq: at.seq,
  };
  return { routed: [{ keys: ['verifications'], frame }], unknownAccount: false };
}

/** The frame's commit time (ISO-8601) in Unix milliseconds. */
function millisecondsOf(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? Date.now() : ms;
}

/** Places enough for any currency's amounts: the difference of two amounts is exact. */
const EXACT_PLACES = 18;

/** `a − b` of two amounts in major units, in decimal (0.3 − 0.1 is 0.2, not 0.19999999999999998). */
function minus(a: number, b: number): number {
  return toMajor(parseScaled(a, EXACT_PLACES) - parseScaled(b, EXACT_PLACES), EXACT_PLACES);
}
