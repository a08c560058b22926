// The events payments announce (payloads in payments.events.ts), each built here and only here, in
// the order the user channel carries them: the payment's own event (deposit_* or withdrawal_*),
// then the generic transaction_completed / transaction_failed, then `payment` on the payment's
// channel. (The ledger could announce transaction_completed itself, with `announce`, but from
// inside the posting: before deposit_completed, stamped with the journal's time rather than the
// payment's; clients see the order above, so payments keep announcing it.)
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { internalStream } from '../../core/realtime/realtime.types.js';
import { toMajor } from '../../shared/money.js';
import { currencyOf } from '../accounts/money-input.js';
import type { PostedJournal } from '../ledger/ledger.types.js';
import { paymentView, unixSeconds } from './payment-views.js';
import './payments.events.js';
import type { DepositRow, PaymentTable, RowOf, WithdrawalRow } from './payments.types.js';

/** `transaction_type` of the generic events. */
const TRANSACTION_TYPE: Record<PaymentTable, 'deposit' | 'withdrawal'> = {
  deposits: 'deposit',
  withdrawals: 'withdrawal',
};

@Injectable()
export class PaymentEvents {
  constructor(
    private readonly publisher: RealtimePublisher,
    private readonly config: AppConfig,
  ) {}

  /** `payment`, at every change: on the payment's own channel (seed 004) and its owner's internal stream (contract section 7). */
  changed<T extends PaymentTable>(tx: EntityManager, table: T, row: RowOf<T>): void {
    const view = paymentView(table, row, this.decimalsOf(row));
    this.publisher.publish(tx, row.payment_id, 'payment', view);
    this.publisher.publish(tx, internalStream('payments', row.user_id), 'payment', view);
  }

  /** A payment completed by `posted`, which left its owner's wallet `walletId` as it shows. */
  completed<T extends PaymentTable>(
    tx: EntityManager,
    table: T,
    row: RowOf<T>,
    posted: PostedJournal,
    walletId: string,
  ): void {
    const wallet = posted.accounts.get(walletId)!;
    const major = (value: bigint) => toMajor(value, this.decimalsOf(row));
    const amount = BigInt(row.amount);
    const fee = BigInt(row.fee);
    const at = unixSeconds(row.finished_at!);
    const channel = wallet.ownerChannel!;
    const journal = { receipt_code: posted.receiptCode, journal_id: Number(posted.journalId) };
    if (table === 'deposits') {
      const deposit = row as DepositRow;
      this.publisher.publish(tx, channel, 'deposit_completed', {
        transaction_ref: deposit.request_ref,
        request_ref: deposit.request_ref,
        payment_id: deposit.payment_id,
        ...journal,
        amount: major(amount),
        currency: deposit.currency,
        user_balance: major(wallet.balance),
        fee_amount: major(fee),
        payment_method: deposit.payment_method ?? deposit.service,
        completed_at: at,
        timestamp: at,
      });
    } else {
      const withdrawal = row as WithdrawalRow;
      const agentId = withdrawal.agent_id;
      this.publisher.publish(tx, channel, 'withdrawal_completed', {
        request_ref: withdrawal.request_ref,
        payment_id: withdrawal.payment_id,
        ...journal,
        amount: major(amount),
        currency: withdrawal.currency,
        balance_after: major(wallet.balance),
        fee_amount: major(fee),
        ...(agentId
          ? {
              agent_id: agentId,
              agent_name: this.config.business.agents.find((a) => a.id === agentId)?.name ?? agentId,
              agent_commission: major(BigInt(withdrawal.agent_commission)),
            }
          : {}),
        timestamp: at,
      });
    }
    this.publisher.publish(tx, channel, 'transaction_completed', {
      receipt_code: posted.receiptCode,
      transaction_id: Number(posted.journalId),
      transaction_type: TRANSACTION_TYPE[table],
      amount: major(amount),
      currency: row.currency,
      balance_after: major(wallet.balance),
      fee: major(fee),
      timestamp: at,
    });
    this.changed(tx, table, row);
  }

  /**
   * A payment that ended without moving money (`row.error` says why): failed or expired are
   * announced to its owner; a cancellation only on its channel (its owner asked for it).
   */
  async ended<T extends PaymentTable>(tx: EntityManager, table: T, row: RowOf<T>): Promise<void> {
    if (row.status !== 'cancelled') {
      const amount = toMajor(BigInt(row.amount), this.decimalsOf(row));
      const at = unixSeconds(row.finished_at!);
      const error = row.error ?? '';
      const channel = await this.publisher.userChannel(tx, row.user_id);
      if (table === 'deposits') {
        const deposit = row as DepositRow;
        this.publisher.publish(tx, channel, 'deposit_failed', {
          transaction_ref: deposit.request_ref,
          request_ref: deposit.request_ref,
          payment_id: deposit.payment_id,
          amount,
          currency: deposit.currency,
          status: deposit.status,
          error_message: error,
          failed_at: at,
          timestamp: at,
        });
      } else {
        this.publisher.publish(tx, channel, 'withdrawal_failed', {
          request_ref: row.request_ref,
          payment_id: row.payment_id,
          amount,
          currency: row.currency,
          error,
          timestamp: at,
        });
      }
      this.publisher.publish(tx, channel, 'transaction_failed', {
        receipt_code: null,
        transaction_id: null,
        transaction_type: TRANSACTION_TYPE[table],
        amount,
        currency: row.currency,
        error,
        timestamp: at,
      });
    }
    this.changed(tx, table, row);
  }

  private decimalsOf(row: { currency: string }): number {
    return currencyOf(this.config, row.currency).decimals;
  }
}
