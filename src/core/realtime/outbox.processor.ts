// Worker side of the outbox: the relay (events committed but never put on the bus, because a
// process died between commit and emit) and the retention purge.
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, Module } from '@nestjs/common';
import type { Job } from 'bullmq';
import { AppConfig } from '../config/app-config.js';
import { QUEUES, type JobPayloads } from '../queue/queues.js';
import { OutboxStore } from './outbox.store.js';
import { RealtimePublisher } from './realtime.publisher.js';
import { RealtimeMetrics } from './realtime.metrics.js';

/** Writes (each a transaction's events) relayed per run. */
const RELAY_BATCH = 100;

@Processor(QUEUES.outbox)
export class OutboxProcessor extends WorkerHost {
  private readonly logger = new Logger(OutboxProcessor.name);

  constructor(
    private readonly store: OutboxStore,
    private readonly publisher: RealtimePublisher,
    private readonly metrics: RealtimeMetrics,
    private readonly config: AppConfig,
  ) {
    super();
  }

  async process(job: Job<JobPayloads['outbox']>): Promise<{ relayed?: number; purged?: number }> {
    switch (job.data.task) {
      case 'relay': {
        const { frames, markers } = await this.store.unemitted(this.config.env.OUTBOX_RELAY_AFTER_MS, RELAY_BATCH);
        if (markers.length === 0) return { relayed: 0 };
        await this.publisher.emit(frames, markers);
        this.metrics.relayed.inc(frames.length);
        // (Writes whose events the retention purge removed meanwhile only have their rows dropped.)
        if (frames.length > 0) {
          this.logger.warn({ events: frames.length }, 'relayed events that were committed but not emitted');
        }
        return { relayed: frames.length };
      }
      case 'purge': {
        const purged = await this.store.purgeOlderThan(this.config.env.OUTBOX_RETENTION_DAYS);
        if (purged > 0) this.logger.log({ purged }, 'outbox events past retention deleted');
        return { purged };
      }
    }
  }
}

/** The outbox jobs; part of the worker. */
@Module({ providers: [OutboxProcessor] })
export class OutboxJobsModule {}
