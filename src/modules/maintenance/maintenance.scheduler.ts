import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { QUEUES, type JobPayloads } from '../../core/queue/queues.js';
import { repeatEvery } from '../../core/queue/schedules.js';

const HOUR_MS = 3600_000;

/** Registers the repeating housekeeping jobs. */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap {
  constructor(@InjectQueue(QUEUES.maintenance) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    await repeatEvery<JobPayloads['maintenance']>(this.queue, 'sessions.purge', HOUR_MS, { task: 'sessions.purge' });
    await repeatEvery<JobPayloads['maintenance']>(this.queue, 'idempotency.purge', HOUR_MS, {
      task: 'idempotency.purge',
    });
  }
}
