// The generic transaction events a payment announces beside its own (deposit_*, withdrawal_*).
import type { EntityManager } from 'typeorm';
import type { CurrencyConfig } from '../../core/config/business-config.js';
import type { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { toMajor } from '../../shared/money.js';
import type { PostedJournal } from '../ledger/ledger.types.js';

export interface PaymentOutcome {
  type: 'deposit' | 'withdrawal';
  /** Minor units of `currency`. */
  amount: bigint;
  currency: CurrencyConfig;
  /** Unix seconds. */
  at: number;
}

export function announceCompleted(
  publisher: RealtimePublisher,
  tx: EntityManager,
  channel: string,
  outcome: PaymentOutcome & { posted: PostedJournal; balanceAfter: bigint; fee: bigint },
): void {
  const major = (value: bigint) => toMajor(value, outcome.currency.decimals);
  publisher.publish(tx, channel, 'transaction_completed', {
    receipt_code: outcome.posted.receiptCode,
    transaction_id: Number(outcome.posted.journalId),
    transaction_type: outcome.type,
    amount: major(outcome.amount),
    currency: outcome.currency.code,
    balance_after: major(outcome.balanceAfter),
    fee: major(outcome.fee),
    timestamp: outcome.at,
  });
}

export function announceFailed(
  publisher: RealtimePublisher,
  tx: EntityManager,
  channel: string,
  outcome: PaymentOutcome & { error: string },
): void {
  publisher.publish(tx, channel, 'transaction_failed', {
    receipt_code: null,
    transaction_id: null,
    transaction_type: outcome.type,
    amount: toMajor(outcome.amount, outcome.currency.decimals),
    currency: outcome.currency.code,
    error: outcome.error,
    timestamp: outcome.at,
  });
}
