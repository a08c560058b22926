// Withdrawals. withdraw_request consumes a verification token (purpose `withdrawal`, bound to the
// amount, currency and destination when the token names them) and holds amount + fee on the
// user's wallet at once, in one transaction: a refusal leaves the token unspent and holds nothing.
// The worker then sends it to its partner (`sent_to_partner`), or, for an agent, settles it at
// once. Completion captures the hold: DR user amount + fee; CR partner settlement (or the agent)
// the amount; CR fee revenue the fee less the agent's commission; CR the agent its commission.
// Failure releases the hold. Status changes are guarded updates from an open status.
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
import { jobRetries } from './payments.types.js';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { internalStream } from '../../core/realtime/realtime.types.js';
import { toMajor } from '../../shared/money.js';
import { AccountsService, HOT_ACCOUNT_SHARDS } from '../accounts/accounts.service.js';
import { amountOf, currencyOf } from '../accounts/money-input.js';
import { FeesService } from '../fees/fees.service.js';
import { IdempotencyService, requestHash } from '../idempotency/idempotency.service.js';
import { LedgerService } from '../ledger/ledger.service.js';
import type { PostingLine } from '../ledger/ledger.types.js';
import { PartnerAdapters } from '../partners/partner-adapters.js';
import { PartnersService } from '../partners/partners.service.js';
import { VerificationTokensService } from '../verification/verification-tokens.service.js';
import type { WithdrawRequestDto } from './dto/payment-requests.dto.js';
import { announceCompleted, announceFailed } from './payment-events.js';
import { insertPayment, selectPayments, transition } from './payment-store.js';
import {
  OPEN_WITHDRAWAL,
  checkAmount,
  unixSeconds,
  withdrawalView,
  type PartnerEvent,
  type WebhookOutcome,
  type WithdrawalRow,
  type WithdrawalCreated,
  type WithdrawalRoute,
  withdrawalCreatedView,
} from './payments.types.js';
import { Transactions } from '../../core/database/transactions.js';

export const payoutJobId = (withdrawalId: string) => `payout-${withdrawalId}`;
const holdReference = (withdrawalId: string) => `withdrawal:${withdrawalId}`;

const notFound = () => new DomainError('TRANSACTION_NOT_FOUND', 'transaction not found', { field: 'request_ref' });

@Injectable()
export class WithdrawalsService {
  private readonly logger = new Logger(WithdrawalsService.name);

  constructor(
    private readonly transactions: Transactions,
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly accounts: AccountsService,
    private readonly partners: PartnersService,
    private readonly adapters: PartnerAdapters,
    private readonly fees: FeesService,
    private readonly tokens: VerificationTokensService,
    private readonly idempotency: IdempotencyService,
    private readonly publisher: RealtimePublisher,
    private readonly queues: QueueService,
    private readonly config: AppConfig,
  ) {}

  async request(userId: string, request: WithdrawRequestDto): Promise<WithdrawalCreated> {
    const currency = currencyOf(this.config, request.currency);
    const amount = amountOf(request.amount, currency);
    const destination = request.destination.trim();
    const route = this.route(request, currency.code);
    const { fee } = this.fees.quote('withdrawal', amount, currency.code);
    const commission = route.agent ? this.fees.agentCommission(fee) : 0n;
    const key = request.idempotency_key;
    const hash = requestHash({
      amount: amount.toString(),
      currency: currency.code,
      destination,
      service: route.service,
      agent_id: route.agent?.id ?? null,
      verification_token: request.verification_token ?? null,
    });
    const created = await this.transactions.run(async (tx) => {
      const claim = key ? { userId, key, requestType: 'withdraw_request', hash } : undefined;
      const replay = await this.idempotency.claimAlone<WithdrawalCreated>(tx, claim);
      if (replay) return { response: replay.response, withdrawalId: undefined };
      await this.tokens.consume(
        userId,
        request.verification_token,
        'withdrawal',
        { amount, currency: currency.code, destination },
        tx,
      );
      const wallet = await this.accounts.walletId(tx, userId, currency.code);
      if (!wallet) throw new DomainError('ACCOUNT_NOT_FOUND', 'account not found', { field: 'currency' });
      const withdrawal = await insertPayment(
        tx,
        'withdrawals',
        `INSERT INTO withdrawals (request_ref, payment_id, user_id, partner_id, agent_id, service, destination, currency,
                                  amount, fee, agent_commission)
         VALUES ('WDL-REQ-' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') || '-' || lpad(nextval('payment_ref_seq')::text, 3, '0'),
                 $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          randomUUID(),
          userId,
          route.partnerId,
          route.agent?.id ?? null,
          route.service,
          destination,
          currency.code,
          amount.toString(),
          fee.toString(),
          commission.toString(),
        ],
      );
      const id = String(withdrawal.id);
      await this.ledger.placeHold(tx, wallet, amount + fee, holdReference(id));
      this.announcePayment(tx, withdrawal, currency);
      const agentAccount = route.agent && this.accounts.systemAccountNumber('agent', currency.code, route.agent.id);
      const response = withdrawalCreatedView(withdrawal, currency, route, agentAccount);
      if (key) await this.idempotency.settle(tx, [{ userId, key, response }]);
      return { response, withdrawalId: id };
    });
    if (created.withdrawalId) {
      await this.enqueue(created.withdrawalId).catch((error: unknown) =>
        this.logger.warn({ err: error }, 'could not enqueue a withdrawal; the next sweep will'),
      );
    }
    return created.response;
  }

  /** The partner.payout job: an agent's withdrawal is settled at once, a partner's is sent. */
  async send(withdrawalId: string): Promise<'sent' | 'settled' | 'skipped'> {
    const withdrawal = await this.load(this.db, withdrawalId);
    if (!withdrawal || withdrawal.status !== 'processing') return 'skipped';
    const currency = currencyOf(this.config, withdrawal.currency);
    if (withdrawal.agent_id) {
      await this.transactions.run(async (tx) => {
        const locked = await this.lock(tx, withdrawalId);
        if (locked && locked.status === 'processing') await this.complete(tx, locked, currency, null);
      });
      return 'settled';
    }
    const { partnerReference } = await this.adapters.for(withdrawal.partner_id!).requestPayout({
      requestRef: withdrawal.request_ref,
      amountMinor: BigInt(withdrawal.amount),
      currency: currency.code,
      destination: withdrawal.destination,
      partnerId: withdrawal.partner_id!,
    });
    await this.transactions.run(async (tx) => {
      const sent = await transition(tx, 'withdrawals', withdrawalId, ['processing'], {
        status: 'sent_to_partner',
        final: false,
        partnerReference,
      });
      if (sent) this.announcePayment(tx, sent, currency);
    });
    return 'sent';
  }

  /** After the job's last attempt: the payout could not be made, the hold goes back. */
  async giveUp(withdrawalId: string, reason: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      const withdrawal = await this.lock(tx, withdrawalId);
      if (withdrawal && OPEN_WITHDRAWAL.includes(withdrawal.status)) await this.fail(tx, withdrawal, reason);
    });
  }

  /** A partner's payout.completed or payout.failed, in the webhook's transaction. */
  async settle(tx: EntityManager, partnerId: string, event: PartnerEvent): Promise<WebhookOutcome> {
    const found = await this.load(tx, undefined, event.request_ref);
    if (!found || found.partner_id !== partnerId) throw notFound();
    const withdrawal = (await this.lock(tx, String(found.id)))!;
    const currency = currencyOf(this.config, withdrawal.currency);
    checkAmount(event, withdrawal.amount, withdrawal.currency, currency);
    if (!OPEN_WITHDRAWAL.includes(withdrawal.status)) {
      if ((event.type === 'payout.completed') !== (withdrawal.status === 'completed')) {
        this.logger.warn(
          {
            request_ref: withdrawal.request_ref,
            status: withdrawal.status,
            event_id: event.event_id,
            type: event.type,
          },
          'partner event contradicts a final withdrawal; nothing changed',
        );
      }
      return 'ignored';
    }
    if (event.type === 'payout.failed') {
      await this.fail(tx, withdrawal, event.error?.slice(0, 500) || 'Payout failed', event.partner_reference);
    } else {
      await this.complete(tx, withdrawal, currency, event.partner_reference);
    }
    return 'applied';
  }

  /** Withdrawals still `processing` whose job was never enqueued (Redis down at the time). */
  async resendUnsent(): Promise<number> {
    const { rows } = await sql<{ id: string }>(
      this.db,
      `SELECT id FROM withdrawals WHERE status = 'processing' AND created_at < now() - interval '10 seconds' LIMIT 500`,
    );
    for (const { id } of rows) await this.enqueue(String(id));
    return rows.length;
  }

  /** Where the money goes: an agent (agent_id), or a partner of the service serving the currency. */
  private route(request: WithdrawRequestDto, currency: string): WithdrawalRoute {
    if (request.agent_id !== undefined) {
      const agent = this.config.business.agents.find((a) => a.id === request.agent_id);
      if (!agent) throw DomainError.validation('agent_id', `unknown agent ${request.agent_id}`);
      if (!agent.currencies.includes(currency)) {
        throw DomainError.validation('agent_id', `agent ${agent.id} does not pay out ${currency}`);
      }
      return { partnerId: null, service: request.service ?? null, agent: { id: agent.id, name: agent.name } };
    }
    const partner = this.partners.pick(request.service, currency);
    return { partnerId: partner.id, service: partner.service, agent: null };
  }

  private async complete(
    tx: EntityManager,
    withdrawal: WithdrawalRow,
    currency: CurrencyConfig,
    partnerReference: string | null,
  ): Promise<void> {
    const id = String(withdrawal.id);
    const amount = BigInt(withdrawal.amount);
    const fee = BigInt(withdrawal.fee);
    const commission = BigInt(withdrawal.agent_commission);
    const hold = await this.ledger.heldByReference(tx, holdReference(id));
    if (!hold) throw new Error(`withdrawal ${withdrawal.request_ref} is open but holds nothing`);
    const code = currency.code;
    const payee = withdrawal.agent_id
      ? this.accounts.systemAccount('agent', code, withdrawal.agent_id)
      : this.accounts.systemAccount('partner_settlement', code, withdrawal.partner_id!);
    const feeAccount = this.accounts.systemAccount('fee_revenue', code, '', randomInt(HOT_ACCOUNT_SHARDS));
    const ref = withdrawal.request_ref;
    const lines: PostingLine[] = [
      { accountId: hold.accountId, direction: 'DR', amount: amount + fee, description: `Withdrawal ${ref}` },
      { accountId: payee, direction: 'CR', amount, description: `Withdrawal ${ref}` },
    ];
    if (fee - commission > 0n) {
      lines.push({ accountId: feeAccount, direction: 'CR', amount: fee - commission, description: 'Withdrawal fee' });
    }
    if (commission > 0n) {
      lines.push({ accountId: payee, direction: 'CR', amount: commission, description: 'Agent commission' });
    }
    const posted = await this.ledger.post(tx, {
      type: 'TRANSACTION_TYPE_WITHDRAWAL',
      description: `Withdrawal ${ref} to ${withdrawal.agent_id ?? withdrawal.partner_id}`,
      lines,
      fees: [
        ...(fee - commission > 0n
          ? [{ feeType: 'FEE_TYPE_PLATFORM', amount: fee - commission, currency: code, accountId: feeAccount }]
          : []),
        ...(commission > 0n
          ? [{ feeType: 'FEE_TYPE_AGENT_COMMISSION', amount: commission, currency: code, accountId: payee }]
          : []),
      ],
      initiatedBy: String(withdrawal.user_id),
      metadata: { request_ref: ref, partner_id: withdrawal.partner_id, agent_id: withdrawal.agent_id },
      captures: [{ reference: holdReference(id), amount: hold.amount }],
    });
    const done = (await transition(tx, 'withdrawals', id, OPEN_WITHDRAWAL, {
      status: 'completed',
      final: true,
      journalId: posted.journalId,
      partnerReference,
    }))!;
    const account = posted.accounts.get(hold.accountId)!;
    const major = (value: bigint) => toMajor(value, currency.decimals);
    const at = unixSeconds(done.finished_at!);
    const agent = withdrawal.agent_id
      ? this.config.business.agents.find((a) => a.id === withdrawal.agent_id)
      : undefined;
    const channel = account.ownerChannel!;
    this.publisher.publish(tx, channel, 'withdrawal_completed', {
      request_ref: ref,
      payment_id: done.payment_id,
      receipt_code: posted.receiptCode,
      journal_id: Number(posted.journalId),
      amount: major(amount),
      currency: code,
      balance_after: major(account.balance),
      fee_amount: major(fee),
      ...(withdrawal.agent_id
        ? {
            agent_id: withdrawal.agent_id,
            agent_name: agent?.name ?? withdrawal.agent_id,
            agent_commission: major(commission),
          }
        : {}),
      timestamp: at,
    });
    announceCompleted(this.publisher, tx, channel, {
      type: 'withdrawal',
      amount,
      currency,
      at,
      posted,
      balanceAfter: account.balance,
      fee,
    });
    this.announcePayment(tx, done, currency);
  }

  private async fail(tx: EntityManager, withdrawal: WithdrawalRow, reason: string, partnerReference?: string) {
    const id = String(withdrawal.id);
    await this.ledger.releaseHold(tx, holdReference(id));
    const done = (await transition(tx, 'withdrawals', id, OPEN_WITHDRAWAL, {
      status: 'failed',
      final: true,
      error: reason,
      partnerReference,
    }))!;
    const currency = currencyOf(this.config, done.currency);
    const amount = toMajor(BigInt(done.amount), currency.decimals);
    const at = unixSeconds(done.finished_at!);
    const channel = await this.publisher.userChannel(tx, String(done.user_id));
    this.publisher.publish(tx, channel, 'withdrawal_failed', {
      request_ref: done.request_ref,
      payment_id: done.payment_id,
      amount,
      currency: currency.code,
      error: reason,
      timestamp: at,
    });
    announceFailed(this.publisher, tx, channel, {
      type: 'withdrawal',
      amount: BigInt(done.amount),
      currency,
      at,
      error: reason,
    });
    this.announcePayment(tx, done, currency);
  }

  private announcePayment(tx: EntityManager, withdrawal: WithdrawalRow, currency: CurrencyConfig): void {
    // On its own channel (seed 004), and on its owner's internal stream (contract section 7).
    const view = withdrawalView(withdrawal, currency.decimals);
    this.publisher.publish(tx, withdrawal.payment_id, 'payment', view);
    this.publisher.publish(tx, internalStream('payments', withdrawal.user_id), 'payment', view);
  }

  private async load(
    manager: EntityManager | DataSource,
    withdrawalId?: string,
    requestRef?: string,
  ): Promise<WithdrawalRow | undefined> {
    const [row] = await selectPayments(manager, 'withdrawals', withdrawalId ? 'w.id = $1' : 'w.request_ref = $1', [
      withdrawalId ?? requestRef,
    ]);
    return row;
  }

  private async lock(tx: EntityManager, withdrawalId: string): Promise<WithdrawalRow | undefined> {
    const [row] = await selectPayments(tx, 'withdrawals', 'w.id = $1', [withdrawalId], 'FOR UPDATE OF w');
    return row;
  }

  private enqueue(withdrawalId: string): Promise<string> {
    return this.queues.enqueue(
      QUEUES.payout,
      { withdrawalId },
      { jobId: payoutJobId(withdrawalId), ...jobRetries(this.config) },
    );
  }
}
