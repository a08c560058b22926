// How a payment ends, for both kinds: `complete` posts its journal (payment-postings.ts) in the
// transaction that moves it, taking the payment's hold; `fail`, `expire` and `cancel` move no
// money, and release the hold (a withdrawal's funds go back, a deposit's announced credit goes). Each is a step of payment-lifecycle.ts, so a repeat, a late or a racing ending finds
// the payment final and does nothing; each announces what it did (payment-events.ts).
import { randomInt } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import { Transactions } from '../../core/database/transactions.js';
import { AccountsService, HOT_ACCOUNT_SHARDS } from '../accounts/accounts.service.js';
import { amountOf, currencyOf } from '../accounts/money-input.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { PostingQueue } from '../ledger/posting-queue.js';
import type { PostedJournal } from '../ledger/ledger.types.js';
import { PaymentEvents } from './payment-events.js';
import { transition, type StepOf, type StepOptions, type Transition } from './payment-lifecycle.js';
import { depositPosting, holdReference, withdrawalPosting } from './payment-postings.js';
import { paymentErrors } from './payments.errors.js';
import type {
  DepositRow,
  PartnerEvent,
  PaymentKey,
  PaymentRow,
  PaymentTable,
  RowOf,
  WebhookOutcome,
  WithdrawalRow,
} from './payments.types.js';

/** A completion's journal, and the wallet of the payment's owner it moved. */
interface Posted {
  journalId: string;
  posted: PostedJournal;
  walletId: string;
}

type Ending<T extends PaymentTable> = Exclude<StepOf<T>, 'send' | 'complete'>;

/** What a partner's failure says when it says nothing. */
const UNEXPLAINED: Record<PaymentTable, string> = { deposits: 'Payment failed', withdrawals: 'Payout failed' };

@Injectable()
export class PaymentSettlementService {
  private readonly logger = new Logger(PaymentSettlementService.name);

  constructor(
    private readonly transactions: Transactions,
    private readonly ledger: LedgerService,
    private readonly postings: PostingQueue,
    private readonly accounts: AccountsService,
    private readonly events: PaymentEvents,
    private readonly config: AppConfig,
  ) {}

  /** A partner's deposit.* or payout.* event, in the webhook's transaction. */
  async applyPartnerEvent(tx: EntityManager, partnerId: string, event: PartnerEvent): Promise<WebhookOutcome> {
    const table: PaymentTable = event.type.startsWith('deposit.') ? 'deposits' : 'withdrawals';
    const completes = event.type === 'deposit.completed' || event.type === 'payout.completed';
    const key = { requestRef: event.request_ref };
    const check = (row: PaymentRow) => {
      if (row.partner_id !== partnerId) throw paymentErrors.notFound();
      checkAmount(event, row, this.config);
    };
    const result = completes
      ? await this.complete(tx, table, key, event.partner_reference, check)
      : await this.end(tx, table, key, 'fail', event.error?.slice(0, 500) || UNEXPLAINED[table], {
          partnerReference: event.partner_reference,
          check,
        });
    if (!result.row) throw paymentErrors.notFound();
    if (result.moved) return 'applied';
    if (completes !== (result.row.status === 'completed')) {
      this.logger.warn(
        { request_ref: result.row.request_ref, status: result.row.status, event_id: event.event_id, type: event.type },
        `partner event contradicts a final ${table === 'deposits' ? 'deposit' : 'withdrawal'}; nothing changed`,
      );
    }
    return 'ignored';
  }

  /** cancel_deposit: only while open; racing a completion, exactly one of them wins. */
  async cancelDeposit(userId: string, requestRef: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      const result = await this.end(tx, 'deposits', { requestRef }, 'cancel', 'Cancelled by the user', {
        check: (row) => {
          if (row.user_id !== userId) throw paymentErrors.notFound();
        },
      });
      if (!result.row) throw paymentErrors.notFound();
      if (!result.moved) throw paymentErrors.notCancellable(result.row.status);
    });
  }

  /** A deposit past its expires_at, still open, expires; true if this one did. */
  async expire(requestRef: string): Promise<boolean> {
    const result = await this.transactions.run((tx) =>
      this.end(tx, 'deposits', { requestRef }, 'expire', 'Deposit expired', {
        when: (row) => row.expires_at.getTime() < Date.now(),
      }),
    );
    return result.moved;
  }

  /** The payment could not be sent (its job's last attempt failed): it fails, its hold is released. */
  async giveUp(table: PaymentTable, id: string, reason: string): Promise<void> {
    await this.transactions.run((tx) => this.end(tx, table, { id }, 'fail', reason));
  }

  /** An agent pays a withdrawal out at once: it completes as soon as the worker takes it. */
  async completeWithAgent(withdrawalId: string): Promise<void> {
    await this.transactions.run((tx) => this.complete(tx, 'withdrawals', { id: withdrawalId }, null));
  }

  private async complete<T extends PaymentTable>(
    tx: EntityManager,
    table: T,
    key: PaymentKey,
    partnerReference: string | null,
    check?: (row: RowOf<T>) => void,
  ): Promise<Transition<RowOf<T>, Posted>> {
    const result = await transition(tx, table, key, 'complete', {
      check,
      partnerReference,
      effect: (row: RowOf<T>) => this.post(tx, table, row, partnerReference),
    });
    if (result.moved) this.events.completed(tx, table, result.row, result.effect.posted, result.effect.walletId);
    return result;
  }

  /** Ends an open payment without moving money; its hold is released first. */
  private async end<T extends PaymentTable>(
    tx: EntityManager,
    table: T,
    key: PaymentKey,
    step: Ending<T>,
    reason: string,
    options: Pick<StepOptions<RowOf<T>, void>, 'check' | 'when' | 'partnerReference'> = {},
  ): Promise<Transition<RowOf<T>, void>> {
    const result = await transition(tx, table, key, step, {
      ...options,
      error: reason,
      effect: async (row: RowOf<T>) => {
        await this.ledger.releaseHold(tx, holdReference(table, row.id));
      },
    });
    if (result.moved) await this.events.ended(tx, table, result.row);
    return result;
  }

  /** The journal that completes the payment `row` (a deposit's `partnerReference` goes in its metadata). */
  private async post<T extends PaymentTable>(
    tx: EntityManager,
    table: T,
    row: RowOf<T>,
    partnerReference: string | null,
  ): Promise<Posted> {
    const code = row.currency;
    const feeRevenue = this.accounts.systemAccount('fee_revenue', code, '', randomInt(HOT_ACCOUNT_SHARDS));
    const hold = await this.ledger.heldByReference(tx, holdReference(table, row.id));
    if (table === 'deposits') {
      const deposit = row as DepositRow;
      // A deposit opened before deposits held (PendingCredit1733289600000) has no hold to take.
      const wallet = hold?.accountId ?? (await this.accounts.ensureWallet(tx, deposit.user_id, code));
      const settlement = this.accounts.systemAccount('partner_settlement', code, deposit.partner_id);
      const posted = await this.postings.post(
        tx,
        depositPosting(deposit, { settlement, wallet, feeRevenue }, partnerReference, hold?.amount ?? null),
      );
      return { journalId: posted.journalId, posted, walletId: wallet };
    }
    const withdrawal = row as WithdrawalRow;
    if (!hold) throw new Error(`withdrawal ${withdrawal.request_ref} is open but holds nothing`);
    const payee = withdrawal.agent_id
      ? this.accounts.systemAccount('agent', code, withdrawal.agent_id)
      : this.accounts.systemAccount('partner_settlement', code, withdrawal.partner_id!);
    const posted = await this.postings.post(
      tx,
      withdrawalPosting(withdrawal, { wallet: hold.accountId, payee, feeRevenue }, hold.amount),
    );
    return { journalId: posted.journalId, posted, walletId: hold.accountId };
  }
}

/** A partner event's amount and currency must be the payment's, exactly. */
function checkAmount(event: PartnerEvent, row: PaymentRow, config: AppConfig): void {
  if (event.currency !== row.currency) throw paymentErrors.otherCurrency(event.currency, row.currency);
  const currency = currencyOf(config, row.currency);
  const expected = BigInt(row.amount);
  if (amountOf(event.amount, currency) !== expected) throw paymentErrors.otherAmount(expected, currency);
}
