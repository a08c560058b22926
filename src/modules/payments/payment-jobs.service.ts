// The worker's policy for payments. A payment's job (partner.deposit, partner.payout) is enqueued
// after its creation commits, with PAYMENT_JOB_ATTEMPTS attempts and exponential backoff of
// PAYMENT_JOB_BACKOFF_MS; its id is the payment's, so enqueueing it again never doubles it. A
// failure is final at the last attempt, or at once when the partner refused the request itself:
// the payment then fails cleanly (a withdrawal's hold goes back) instead of staying open. A job
// can be lost (Redis down at creation, or back empty after a restart): every few seconds each
// queue's `resend` enqueues again the payments still new after 10 s. And deposits past
// expires_at expire (deposit.expiry).
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import { QueueService } from '../../core/queue/queue.service.js';
import { QUEUES } from '../../core/queue/queues.js';
import { PartnerRequestError } from '../partners/partner-adapter.js';
import { PaymentDispatchService } from './payment-dispatch.service.js';
import { LIFECYCLES } from './payment-lifecycle.js';
import { PaymentSettlementService } from './payment-settlement.service.js';
import { expiredDeposits, unsentPayments } from './payment-store.js';
import type { PaymentTable } from './payments.types.js';

/** Which attempt of a job this is, counting from 1, of how many. */
export interface Attempt {
  number: number;
  of: number;
}

export const depositJobId = (depositId: string) => `deposit-${depositId}`;
export const payoutJobId = (withdrawalId: string) => `payout-${withdrawalId}`;

/** The last attempt, or an error no attempt can cure (the partner refused the request itself). */
const isFinal = (attempt: Attempt, error: unknown) =>
  attempt.number >= attempt.of || (error instanceof PartnerRequestError && !error.retryable);
const reasonOf = (error: unknown) =>
  `partner unreachable: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500);

@Injectable()
export class PaymentJobsService {
  private readonly logger = new Logger(PaymentJobsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly queues: QueueService,
    private readonly config: AppConfig,
    private readonly dispatch: PaymentDispatchService,
    private readonly settlement: PaymentSettlementService,
  ) {}

  /** Enqueues the payment's job; if Redis cannot take it now, the next `resend` will. */
  async enqueue(table: PaymentTable, id: string): Promise<void> {
    await this.add(table, id).catch((error: unknown) =>
      this.logger.warn({ err: error, table, id }, 'could not enqueue a payment job; the next resend will'),
    );
  }

  /** One attempt of a payment's job: `failed` when it was the last and the payment failed with it. */
  async send(table: PaymentTable, id: string, attempt: Attempt): Promise<'sent' | 'settled' | 'skipped' | 'failed'> {
    try {
      return await this.dispatch.send(table, id);
    } catch (error) {
      if (!isFinal(attempt, error)) throw error;
      this.logger.error({ err: error, table, id }, 'payment failed: its partner could not be reached');
      await this.settlement.giveUp(table, id, reasonOf(error));
      return 'failed';
    }
  }

  /** Enqueues again the jobs of payments still new after 10 s (lost, or never enqueued). */
  async resendLost(table: PaymentTable): Promise<{ resent: number }> {
    const ids = await unsentPayments(this.db, table, LIFECYCLES[table].opened);
    for (const id of ids) await this.add(table, id);
    return { resent: ids.length };
  }

  /** Expires the open deposits past their expires_at. */
  async expireDeposits(): Promise<{ expired: number }> {
    let expired = 0;
    for (const requestRef of await expiredDeposits(this.db, LIFECYCLES.deposits.open)) {
      if (await this.settlement.expire(requestRef)) expired += 1;
    }
    if (expired > 0) this.logger.log({ expired }, 'deposits expired');
    return { expired };
  }

  private async add(table: PaymentTable, id: string): Promise<void> {
    const retries = {
      attempts: this.config.env.PAYMENT_JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: this.config.env.PAYMENT_JOB_BACKOFF_MS },
    };
    if (table === 'deposits') {
      await this.queues.enqueue(QUEUES.deposit, { depositId: id }, { jobId: depositJobId(id), ...retries });
    } else {
      await this.queues.enqueue(QUEUES.payout, { withdrawalId: id }, { jobId: payoutJobId(id), ...retries });
    }
  }
}
