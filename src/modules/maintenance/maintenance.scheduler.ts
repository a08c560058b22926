import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { QUEUES, type JobPayloads } from '../../core/queue/queues.js';

const HOUR_MS = 3600_000;

/** Registers the repeating housekeeping jobs (an upsert: any number of workers may do it). */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap {
  constructor(@InjectQueue(QUEUES.maintenance) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    const data: JobPayloads['maintenance'] = { task: 'sessions.purge' };
    await this.queue.upsertJobScheduler('sessions.purge', { every: HOUR_MS }, { name: 'sessions.purge', data });
  }
}
