import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { QUEUES, type JobPayloads } from '../../core/queue/queues.js';
import { OtpDeliveryService, type DeliveryOutcome } from './otp-delivery.service.js';

/** `notify.otp`: delivers one OTP message (see OtpDeliveryService). */
@Processor(QUEUES.otp)
export class OtpDeliveryProcessor extends WorkerHost {
  constructor(private readonly delivery: OtpDeliveryService) {
    super();
  }

  async process(job: Job<JobPayloads['notify.otp']>): Promise<DeliveryOutcome> {
    return this.delivery.deliver(job.data.messageId, job.attemptsMade + 1, job.opts.attempts ?? 1);
  }
}
