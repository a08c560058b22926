import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { QUEUES, type JobPayloads } from '../../core/queue/queues.js';
import { repeatEvery } from '../../core/queue/schedules.js';

const SWEEP_EVERY_MS = 10_000;

/** Registers the deposit sweep (expiry, and jobs that were never enqueued). */
@Injectable()
export class PaymentsScheduler implements OnApplicationBootstrap {
  constructor(@InjectQueue(QUEUES.depositExpiry) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    await repeatEvery<JobPayloads['deposit.expiry']>(this.queue, 'deposit.sweep', SWEEP_EVERY_MS, { task: 'sweep' });
  }
}
