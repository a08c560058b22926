// The worker's side of the exchange: every pair's tick at least every 10 s, and the sweep of the
// dead man's switch (dead-man-switch.ts).
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { QUEUES, type JobPayloads } from '../../core/queue/queues.js';
import { DeadManSwitch } from './dead-man-switch.js';
import { MarketData } from './market-data.service.js';

@Processor(QUEUES.market)
export class MarketJobsProcessor extends WorkerHost {
  constructor(
    private readonly marketData: MarketData,
    private readonly deadManSwitch: DeadManSwitch,
  ) {
    super();
  }

  async process(job: Job<JobPayloads['market']>): Promise<{ ticks?: number; cancelled?: number }> {
    switch (job.data.task) {
      case 'tick':
        return { ticks: await this.marketData.publishAllTicks() };
      case 'disconnects':
        return { cancelled: await this.deadManSwitch.sweep() };
    }
  }
}
