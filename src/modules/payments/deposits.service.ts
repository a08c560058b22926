// Deposits through partners. A deposit is created `pending` (with its payment channel and its
// idempotency key, in one transaction), sent to its partner by the worker (`sent_to_partner`), and
// settled by the partner's webhook: `completed` posts DR partner settlement, CR user (amount − fee),
// CR fee revenue in the same transaction as the guarded status change and its events. `failed`,
// `expired` (past expires_at) and `cancelled` (by the user) move no money. Every change of status
// is a guarded update from an open status, so a repeat, a late or a racing change does nothing.
import { randomInt, randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import type { CurrencyConfig } from '../../core/config/business-config.js';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { QueueService } from '../../core/queue/queue.service.js';
import { QUEUES } from '../../core/queue/queues.js';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { internalStream } from '../../core/realtime/realtime.types.js';
import { formatForMessage, toMajor } from '../../shared/money.js';
import { AccountsService, HOT_ACCOUNT_SHARDS } from '../accounts/accounts.service.js';
import { amountOf, currencyOf } from '../accounts/money-input.js';
import { FeesService } from '../fees/fees.service.js';
import { IdempotencyService, requestHash } from '../idempotency/idempotency.service.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { PartnerAdapters } from '../partners/partner-adapters.js';
import { PartnersService } from '../partners/partners.service.js';
import type { DepositRefDto, DepositRequestDto } from './dto/payment-requests.dto.js';
import { announceCompleted, announceFailed } from './payment-events.js';
import { insertPayment, selectPayments, transition } from './payment-store.js';
import {
  OPEN_DEPOSIT,
  checkAmount,
  depositView,
  jobRetries,
  unixSeconds,
  type DepositRow,
  type DepositStatus,
  type PartnerEvent,
  type WebhookOutcome,
} from './payments.types.js';
import { Transactions } from '../../core/database/transactions.js';

export interface DepositCreated {
  request_ref: string;
  payment_id: string;
  partner_id: string;
  partner_name: string;
  amount: number;
  fee: number;
  currency: string;
  status: DepositStatus;
  expires_at: string;
  created_at: string;
}

export const depositJobId = (depositId: string) => `deposit-${depositId}`;

const notFound = () => new DomainError('TRANSACTION_NOT_FOUND', 'transaction not found', { field: 'request_ref' });

@Injectable()
export class DepositsService {
  private readonly logger = new Logger(DepositsService.name);

  constructor(
    private readonly transactions: Transactions,
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly accounts: AccountsService,
    private readonly partners: PartnersService,
    private readonly adapters: PartnerAdapters,
    private readonly fees: FeesService,
    private readonly idempotency: IdempotencyService,
    private readonly publisher: RealtimePublisher,
    private readonly queues: QueueService,
    private readonly config: AppConfig,
  ) {}

  /** deposit_request: the deposit, its payment channel and the job that sends it to the partner. */
  async request(userId: string, request: DepositRequestDto): Promise<DepositCreated> {
    const currency = currencyOf(this.config, request.currency);
    const amount = amountOf(request.amount, currency);
    const partner = this.partners.pick(request.service, currency.code, request.partner_id);
    const { fee } = this.fees.quote('deposit', amount, currency.code);
    if (fee >= amount) {
      throw DomainError.validation(
        'amount',
        `amount must be more than the deposit fee of ${formatForMessage(fee, currency)}`,
      );
    }
    const paymentMethod = request.payment_method ?? null;
    const key = request.idempotency_key;
    const hash = requestHash({
      amount: amount.toString(),
      currency: currency.code,
      service: request.service,
      partner_id: partner.id,
      payment_method: paymentMethod,
    });
    const created = await this.transactions.run(async (tx) => {
      const claim = key ? { userId, key, requestType: 'deposit_request', hash } : undefined;
      const replay = await this.idempotency.claimAlone<DepositCreated>(tx, claim);
      if (replay) return { response: replay.response, depositId: undefined };
      const wallet = await this.accounts.walletId(tx, userId, currency.code);
      if (wallet) await this.requireCreditable(tx, wallet);
      const deposit = await insertPayment(
        tx,
        'deposits',
        `INSERT INTO deposits (request_ref, payment_id, user_id, partner_id, service, payment_method, currency, amount, fee, expires_at)
         VALUES ('DEP-REQ-' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') || '-' || lpad(nextval('payment_ref_seq')::text, 3, '0'),
                 $1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))`,
        [
          randomUUID(),
          userId,
          partner.id,
          request.service,
          paymentMethod,
          currency.code,
          amount.toString(),
          fee.toString(),
          this.config.env.DEPOSIT_TTL_SECONDS,
        ],
      );
      this.announcePayment(tx, deposit, currency);
      const response: DepositCreated = {
        request_ref: deposit.request_ref,
        payment_id: deposit.payment_id,
        partner_id: partner.id,
        partner_name: partner.name,
        amount: toMajor(amount, currency.decimals),
        fee: toMajor(fee, currency.decimals),
        currency: currency.code,
        status: deposit.status,
        expires_at: deposit.expires_at.toISOString(),
        created_at: deposit.created_at.toISOString(),
      };
      if (key) await this.idempotency.settle(tx, [{ userId, key, response }]);
      return { response, depositId: String(deposit.id) };
    });
    // After the commit: a job that cannot be enqueued now is enqueued by the next sweep.
    if (created.depositId) await this.enqueue(created.depositId).catch((error: unknown) => this.enqueueFailed(error));
    return created.response;
  }

  /** cancel_deposit: only while open; racing a completion, exactly one of them wins. */
  async cancel(userId: string, { request_ref }: DepositRefDto): Promise<void> {
    await this.transactions.run(async (tx) => {
      const deposit = await this.lockByRef(tx, request_ref);
      if (!deposit || deposit.user_id !== userId) throw notFound();
      if (!OPEN_DEPOSIT.includes(deposit.status)) {
        throw new DomainError(
          'PAYMENT_NOT_CANCELLABLE',
          `deposit is ${deposit.status} and can no longer be cancelled`,
          {
            field: 'request_ref',
          },
        );
      }
      await this.finish(tx, deposit, 'cancelled', 'Cancelled by the user');
    });
  }

  /** The partner.deposit job: sends an open deposit to its partner, then marks it sent. */
  async send(depositId: string): Promise<'sent' | 'skipped'> {
    const deposit = await this.load(depositId);
    if (!deposit || deposit.status !== 'pending') return 'skipped';
    const currency = currencyOf(this.config, deposit.currency);
    const { partnerReference } = await this.adapters.for(deposit.partner_id).requestDeposit({
      requestRef: deposit.request_ref,
      amountMinor: BigInt(deposit.amount),
      currency: currency.code,
      partnerId: deposit.partner_id,
    });
    await this.transactions.run(async (tx) => {
      const sent = await transition(tx, 'deposits', depositId, ['pending'], {
        status: 'sent_to_partner',
        final: false,
        partnerReference,
      });
      if (sent) this.announcePayment(tx, sent, currency);
    });
    return 'sent';
  }

  /** After the job's last attempt: the partner could not be reached, the deposit fails. */
  async giveUp(depositId: string, reason: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      const [deposit] = await selectPayments(tx, 'deposits', 'd.id = $1', [depositId], 'FOR UPDATE OF d');
      if (deposit && OPEN_DEPOSIT.includes(deposit.status)) await this.finish(tx, deposit, 'failed', reason);
    });
  }

  /** A partner's deposit.completed or deposit.failed, in the webhook's transaction. */
  async settle(tx: EntityManager, partnerId: string, event: PartnerEvent): Promise<WebhookOutcome> {
    const deposit = await this.lockByRef(tx, event.request_ref);
    if (!deposit || deposit.partner_id !== partnerId) throw notFound();
    const currency = currencyOf(this.config, deposit.currency);
    checkAmount(event, deposit.amount, deposit.currency, currency);
    if (!OPEN_DEPOSIT.includes(deposit.status)) {
      const contradicts = (event.type === 'deposit.completed') !== (deposit.status === 'completed');
      if (contradicts) {
        this.logger.warn(
          { request_ref: deposit.request_ref, status: deposit.status, event_id: event.event_id, type: event.type },
          'partner event contradicts a final deposit; nothing changed',
        );
      }
      return 'ignored';
    }
    if (event.type === 'deposit.failed') {
      await this.finish(tx, deposit, 'failed', event.error?.slice(0, 500) || 'Payment failed', event.partner_reference);
      return 'applied';
    }
    await this.complete(tx, deposit, currency, event.partner_reference);
    return 'applied';
  }

  /** The deposit.expiry job: fails what is past expires_at; enqueues again what was never sent. */
  async sweep(): Promise<{ expired: number; resent: number }> {
    const { rows: due } = await sql<{ request_ref: string }>(
      this.db,
      `SELECT request_ref FROM deposits WHERE status IN ('pending', 'sent_to_partner') AND expires_at < now() LIMIT 500`,
    );
    let expired = 0;
    for (const { request_ref } of due) {
      await this.transactions.run(async (tx) => {
        const deposit = await this.lockByRef(tx, request_ref);
        if (deposit && OPEN_DEPOSIT.includes(deposit.status) && deposit.expires_at.getTime() < Date.now()) {
          await this.finish(tx, deposit, 'expired', 'Deposit expired');
          expired += 1;
        }
      });
    }
    const { rows: unsent } = await sql<{ id: string }>(
      this.db,
      `SELECT id FROM deposits WHERE status = 'pending' AND created_at < now() - interval '10 seconds' LIMIT 500`,
    );
    for (const { id } of unsent) await this.enqueue(String(id));
    return { expired, resent: unsent.length };
  }

  private async complete(
    tx: EntityManager,
    deposit: DepositRow,
    currency: CurrencyConfig,
    partnerReference: string,
  ): Promise<void> {
    const amount = BigInt(deposit.amount);
    const fee = BigInt(deposit.fee);
    const wallet = await this.accounts.ensureWallet(tx, deposit.user_id, currency.code);
    const settlement = this.accounts.systemAccount('partner_settlement', currency.code, deposit.partner_id);
    const feeAccount = this.accounts.systemAccount('fee_revenue', currency.code, '', randomInt(HOT_ACCOUNT_SHARDS));
    const posted = await this.ledger.post(tx, {
      type: 'TRANSACTION_TYPE_DEPOSIT',
      description: `Deposit ${deposit.request_ref} through ${deposit.partner_id}`,
      lines: [
        { accountId: settlement, direction: 'DR', amount, description: `Deposit ${deposit.request_ref}` },
        { accountId: wallet, direction: 'CR', amount: amount - fee, description: `Deposit ${deposit.request_ref}` },
        ...(fee > 0n
          ? [{ accountId: feeAccount, direction: 'CR' as const, amount: fee, description: 'Deposit fee' }]
          : []),
      ],
      fees:
        fee > 0n ? [{ feeType: 'FEE_TYPE_PLATFORM', amount: fee, currency: currency.code, accountId: feeAccount }] : [],
      initiatedBy: deposit.user_id,
      metadata: {
        request_ref: deposit.request_ref,
        partner_id: deposit.partner_id,
        partner_reference: partnerReference,
      },
    });
    const done = (await transition(tx, 'deposits', deposit.id, OPEN_DEPOSIT, {
      status: 'completed',
      final: true,
      journalId: posted.journalId,
      partnerReference,
    }))!;
    const account = posted.accounts.get(wallet)!;
    const major = (value: bigint) => toMajor(value, currency.decimals);
    const at = unixSeconds(done.finished_at!);
    const channel = account.ownerChannel!;
    this.publisher.publish(tx, channel, 'deposit_completed', {
      transaction_ref: done.request_ref,
      request_ref: done.request_ref,
      payment_id: done.payment_id,
      receipt_code: posted.receiptCode,
      journal_id: Number(posted.journalId),
      amount: major(amount),
      currency: currency.code,
      user_balance: major(account.balance),
      fee_amount: major(fee),
      payment_method: done.payment_method ?? done.service,
      completed_at: at,
      timestamp: at,
    });
    announceCompleted(this.publisher, tx, channel, {
      type: 'deposit',
      amount,
      currency,
      at,
      posted,
      balanceAfter: account.balance,
      fee,
    });
    this.announcePayment(tx, done, currency);
  }

  /** Moves an open deposit to a final status without money: failed, expired or cancelled. */
  private async finish(
    tx: EntityManager,
    deposit: DepositRow,
    status: 'failed' | 'expired' | 'cancelled',
    reason: string,
    partnerReference?: string,
  ): Promise<void> {
    const done = await transition(tx, 'deposits', deposit.id, OPEN_DEPOSIT, {
      status,
      final: true,
      error: reason,
      partnerReference,
    });
    if (!done) return;
    const currency = currencyOf(this.config, done.currency);
    const amount = toMajor(BigInt(done.amount), currency.decimals);
    const at = unixSeconds(done.finished_at!);
    const channel = await this.publisher.userChannel(tx, done.user_id);
    if (status !== 'cancelled') {
      this.publisher.publish(tx, channel, 'deposit_failed', {
        transaction_ref: done.request_ref,
        request_ref: done.request_ref,
        payment_id: done.payment_id,
        amount,
        currency: currency.code,
        status,
        error_message: reason,
        failed_at: at,
        timestamp: at,
      });
      announceFailed(this.publisher, tx, channel, {
        type: 'deposit',
        amount: BigInt(done.amount),
        currency,
        at,
        error: reason,
      });
    }
    this.announcePayment(tx, done, currency);
  }

  private announcePayment(tx: EntityManager, deposit: DepositRow, currency: CurrencyConfig): void {
    // On its own channel (seed 004), and on its owner's internal stream (contract section 7).
    const view = depositView(deposit, currency.decimals);
    this.publisher.publish(tx, deposit.payment_id, 'payment', view);
    this.publisher.publish(tx, internalStream('payments', deposit.user_id), 'payment', view);
  }

  private async load(depositId: string): Promise<DepositRow | undefined> {
    const [deposit] = await selectPayments(this.db, 'deposits', 'd.id = $1', [depositId]);
    return deposit;
  }

  private async lockByRef(tx: EntityManager, requestRef: string): Promise<DepositRow | undefined> {
    const [row] = await selectPayments(tx, 'deposits', 'd.request_ref = $1', [requestRef], 'FOR UPDATE OF d');
    return row ? { ...row, id: String(row.id), user_id: String(row.user_id) } : undefined;
  }

  /** A locked or inactive wallet takes no deposit: refused up front rather than at completion. */
  private async requireCreditable(tx: EntityManager, walletId: string): Promise<void> {
    const { rows } = await sql<{ is_active: boolean; is_locked: boolean }>(
      tx,
      `SELECT is_active, is_locked FROM accounts WHERE id = $1`,
      [walletId],
    );
    if (rows[0] && (!rows[0].is_active || rows[0].is_locked)) {
      throw new DomainError('ACCOUNT_LOCKED', 'account is locked', { field: 'currency' });
    }
  }

  private enqueue(depositId: string): Promise<string> {
    return this.queues.enqueue(
      QUEUES.deposit,
      { depositId },
      { jobId: depositJobId(depositId), ...jobRetries(this.config) },
    );
  }

  private enqueueFailed(error: unknown): void {
    this.logger.warn({ err: error }, 'could not enqueue a deposit; the next sweep will');
  }
}
