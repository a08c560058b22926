// The worker's side of payments: each job is read and handed to PaymentJobsService, which holds
// the policy (attempts, what a final failure does, what to do about lost jobs). Jobs carry ids
// only; the row is the truth, and each step is a guarded transition, so a job run twice (BullMQ
// delivers at least once; a killed worker's job is taken over by another once its lock lapses)
// moves no money twice.
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { QUEUES, type JobPayloads } from '../../core/queue/queues.js';
import { PaymentJobsService, type Attempt } from './payment-jobs.service.js';

/**
 * How long a worker's lock on a job lasts (JOB_LOCK_MS, validated with the rest of the
 * environment at start-up; decorators are evaluated before, so it is read here directly). A job
 * whose worker died is taken over after about twice this.
 */
const lockMs = Number(process.env.JOB_LOCK_MS ?? 30_000) || 30_000;
const workerOptions = { lockDuration: lockMs, stalledInterval: lockMs, concurrency: 8 };

const attemptOf = (job: Job): Attempt => ({ number: job.attemptsMade + 1, of: job.opts.attempts ?? 1 });

/** A deposit to send to its partner, or (every few seconds) the deposits whose job was lost. */
@Processor(QUEUES.deposit, workerOptions)
export class DepositJobsProcessor extends WorkerHost {
  constructor(private readonly jobs: PaymentJobsService) {
    super();
  }

  process(job: Job<JobPayloads['partner.deposit']>): Promise<string | { resent: number }> {
    return 'depositId' in job.data
      ? this.jobs.send('deposits', job.data.depositId, attemptOf(job))
      : this.jobs.resendLost('deposits');
  }
}

/** A withdrawal to send to its partner (or its agent), or (every few seconds) those whose job was lost. */
@Processor(QUEUES.payout, workerOptions)
export class PayoutJobsProcessor extends WorkerHost {
  constructor(private readonly jobs: PaymentJobsService) {
    super();
  }

  process(job: Job<JobPayloads['partner.payout']>): Promise<string | { resent: number }> {
    return 'withdrawalId' in job.data
      ? this.jobs.send('withdrawals', job.data.withdrawalId, attemptOf(job))
      : this.jobs.resendLost('withdrawals');
  }
}

/** Every few seconds: expire the deposits past expires_at. */
@Processor(QUEUES.depositExpiry)
export class DepositExpiryProcessor extends WorkerHost {
  constructor(private readonly jobs: PaymentJobsService) {
    super();
  }

  process(): Promise<{ expired: number }> {
    return this.jobs.expireDeposits();
  }
}
