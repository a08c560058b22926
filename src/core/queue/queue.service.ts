import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { QUEUES, type JobPayloads, type QueueName } from './queues.js';

/** Typed enqueueing, with retries and exponential backoff by default. */
@Injectable()
export class QueueService {
  private readonly queues: Record<QueueName, Queue>;

  constructor(
    @InjectQueue(QUEUES.maintenance) maintenance: Queue,
    @InjectQueue(QUEUES.outbox) outbox: Queue,
    @InjectQueue(QUEUES.otp) otp: Queue,
    @InjectQueue(QUEUES.deposit) deposit: Queue,
    @InjectQueue(QUEUES.payout) payout: Queue,
    @InjectQueue(QUEUES.depositExpiry) depositExpiry: Queue,
    @InjectQueue(QUEUES.market) market: Queue,
  ) {
    this.queues = {
      maintenance,
      outbox,
      [QUEUES.otp]: otp,
      [QUEUES.deposit]: deposit,
      [QUEUES.payout]: payout,
      [QUEUES.depositExpiry]: depositExpiry,
      market,
    };
  }

  queue(name: QueueName): Queue {
    return this.queues[name];
  }

  async enqueue<Q extends QueueName>(name: Q, payload: JobPayloads[Q], options: JobsOptions = {}): Promise<string> {
    const job = await this.queues[name].add(name, payload, {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 24 * 3600, count: 10000 },
      removeOnFail: false,
      ...options,
    });
    return job.id ?? '';
  }

  /** Job counts per queue (a round trip on every queue's connection); used by the health check. */
  async counts(): Promise<Record<string, Record<string, number>>> {
    const entries = await Promise.all(
      Object.entries(this.queues).map(
        async ([name, queue]) => [name, await queue.getJobCounts('waiting', 'active', 'delayed', 'failed')] as const,
      ),
    );
    return Object.fromEntries(entries);
  }
}
