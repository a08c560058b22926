// Worker side of the outbox: the relay and the retention purge (outbox-relay.ts).
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import type { Job } from 'bullmq';
import { QUEUES, type JobPayloads } from '../queue/queues.js';
import { OutboxRelay } from './outbox-relay.js';

@Processor(QUEUES.outbox)
export class OutboxProcessor extends WorkerHost {
  constructor(private readonly outbox: OutboxRelay) {
    super();
  }

  async process(job: Job<JobPayloads['outbox']>): Promise<{ relayed?: number; purged?: number }> {
    switch (job.data.task) {
      case 'relay':
        return { relayed: await this.outbox.relay() };
      case 'purge':
        return { purged: await this.outbox.purge() };
    }
  }
}

/** The outbox jobs; part of the worker. */
@Module({ providers: [OutboxRelay, OutboxProcessor] })
export class OutboxJobsModule {}
