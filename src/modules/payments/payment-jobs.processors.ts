// The worker's side of payments. Jobs carry ids only; the row is the truth, and each step is a
// guarded transition, so a job run twice (BullMQ delivers at least once; a killed worker's job is
// taken over by another once its lock lapses) moves no money twice. A job that fails its last
// attempt fails its payment cleanly (a withdrawal's hold goes back) instead of leaving it open.
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { QUEUES, type JobPayloads } from '../../core/queue/queues.js';
import { PartnerRequestError } from '../partners/partner-adapter.js';
import { DepositsService } from './deposits.service.js';
import { WithdrawalsService } from './withdrawals.service.js';

/**
 * How long a worker's lock on a job lasts (JOB_LOCK_MS, validated with the rest of the
 * environment at start-up; decorators are evaluated before, so it is read here directly). A job
 * whose worker died is taken over after about twice this.
 */
const lockMs = Number(process.env.JOB_LOCK_MS ?? 30_000) || 30_000;
const workerOptions = { lockDuration: lockMs, stalledInterval: lockMs, concurrency: 8 };

/** The last attempt, or an error no attempt can cure (the partner refused the request itself). */
const isFinal = (job: Job, error: unknown) =>
  job.attemptsMade + 1 >= (job.opts.attempts ?? 1) || (error instanceof PartnerRequestError && !error.retryable);
const reasonOf = (error: unknown) =>
  `partner unreachable: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500);

@Processor(QUEUES.deposit, workerOptions)
export class DepositJobsProcessor extends WorkerHost {
  private readonly logger = new Logger(DepositJobsProcessor.name);

  constructor(private readonly deposits: DepositsService) {
    super();
  }

  async process(job: Job<JobPayloads['partner.deposit']>): Promise<string> {
    try {
      return await this.deposits.send(job.data.depositId);
    } catch (error) {
      if (!isFinal(job, error)) throw error;
      this.logger.error({ err: error, deposit_id: job.data.depositId }, 'deposit failed: partner unreachable');
      await this.deposits.giveUp(job.data.depositId, reasonOf(error));
      return 'failed';
    }
  }
}

@Processor(QUEUES.payout, workerOptions)
export class PayoutJobsProcessor extends WorkerHost {
  private readonly logger = new Logger(PayoutJobsProcessor.name);

  constructor(private readonly withdrawals: WithdrawalsService) {
    super();
  }

  async process(job: Job<JobPayloads['partner.payout']>): Promise<string> {
    try {
      return await this.withdrawals.send(job.data.withdrawalId);
    } catch (error) {
      if (!isFinal(job, error)) throw error;
      this.logger.error({ err: error, withdrawal_id: job.data.withdrawalId }, 'withdrawal failed: payout impossible');
      await this.withdrawals.giveUp(job.data.withdrawalId, reasonOf(error));
      return 'failed';
    }
  }
}

/** Every few seconds: expire deposits past expires_at; enqueue again what never got a job. */
@Processor(QUEUES.depositExpiry)
export class DepositExpiryProcessor extends WorkerHost {
  private readonly logger = new Logger(DepositExpiryProcessor.name);

  constructor(
    private readonly deposits: DepositsService,
    private readonly withdrawals: WithdrawalsService,
  ) {
    super();
  }

  async process(): Promise<{ expired: number; resent: number }> {
    const { expired, resent } = await this.deposits.sweep();
    const resentWithdrawals = await this.withdrawals.resendUnsent();
    if (expired > 0) this.logger.log({ expired }, 'deposits expired');
    return { expired, resent: resent + resentWithdrawals };
  }
}
