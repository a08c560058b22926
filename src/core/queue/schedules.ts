// Every repeating job of the worker, declared in one place, and the service that keeps them
// registered in Redis. Redis may come back empty (a restart without persistence, a failover): the
// schedulers would then be gone and nothing would expire deposits, re-send lost payment jobs, relay
// unsent events or purge old rows. So the worker registers them at start-up, again whenever its
// Redis connection comes back, and checks every few seconds from a timer of its own (not a job:
// a check that lived in Redis would vanish with what it checks) that each one still exists.
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { RedisService } from '../redis/redis.service.js';
import { QUEUES, type JobPayloads, type QueueName } from './queues.js';

const HOUR_MS = 3600_000;

interface Schedule<Q extends QueueName = QueueName> {
  queue: Q;
  id: string;
  everyMs: number;
  data: JobPayloads[Q];
}

const schedule = <Q extends QueueName>(queue: Q, id: string, everyMs: number, data: JobPayloads[Q]): Schedule => ({
  queue,
  id,
  everyMs,
  data,
});

export const SCHEDULES: readonly Schedule[] = [
  // Expires deposits past expires_at.
  schedule(QUEUES.depositExpiry, 'deposit.sweep', 10_000, { task: 'sweep' }),
  // Re-sends, each on its own queue, the deposits and withdrawals whose job was lost.
  schedule(QUEUES.deposit, 'deposit.resend', 10_000, { task: 'resend' }),
  schedule(QUEUES.payout, 'payout.resend', 10_000, { task: 'resend' }),
  // Emits events committed but never put on the bus.
  schedule(QUEUES.outbox, 'outbox.relay', 2000, { task: 'relay' }),
  schedule(QUEUES.outbox, 'outbox.purge', HOUR_MS, { task: 'purge' }),
  schedule(QUEUES.maintenance, 'sessions.purge', HOUR_MS, { task: 'sessions.purge' }),
  schedule(QUEUES.maintenance, 'idempotency.purge', HOUR_MS, { task: 'idempotency.purge' }),
  // Every pair's 24 h ticker, also when nothing trades (contract: at least every 10 s).
  schedule(QUEUES.market, 'market.tick', 5000, { task: 'tick' }),
  // Cancels the cancel_on_disconnect orders of sessions gone for 10 s.
  schedule(QUEUES.market, 'market.disconnects', 1000, { task: 'disconnects' }),
];

/** How often the worker checks that every scheduler is still registered. */
export const SCHEDULE_CHECK_MS = 5000;

@Injectable()
export class JobSchedules implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobSchedules.name);
  private readonly queues: Record<string, Queue>;
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private readonly onReady = () => void this.check('redis connection re-established');

  constructor(
    private readonly redis: RedisService,
    @InjectQueue(QUEUES.maintenance) maintenance: Queue,
    @InjectQueue(QUEUES.outbox) outbox: Queue,
    @InjectQueue(QUEUES.deposit) deposit: Queue,
    @InjectQueue(QUEUES.payout) payout: Queue,
    @InjectQueue(QUEUES.depositExpiry) depositExpiry: Queue,
    @InjectQueue(QUEUES.market) market: Queue,
  ) {
    this.queues = {
      [QUEUES.maintenance]: maintenance,
      [QUEUES.outbox]: outbox,
      [QUEUES.deposit]: deposit,
      [QUEUES.payout]: payout,
      [QUEUES.depositExpiry]: depositExpiry,
      [QUEUES.market]: market,
    };
    for (const { queue } of SCHEDULES) {
      if (!this.queues[queue]) throw new Error(`JobSchedules has no queue ${queue} for its schedule`);
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(SCHEDULES.map((s) => this.register(s)));
    this.redis.client.on('ready', this.onReady);
    this.timer = setInterval(() => void this.check('periodic check'), SCHEDULE_CHECK_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.redis.client.off('ready', this.onReady);
    await this.checking;
  }

  /** Re-registers every scheduler that is missing; returns the ids it had to re-create. */
  async ensure(): Promise<string[]> {
    const missing: string[] = [];
    for (const item of SCHEDULES) {
      if (await this.queues[item.queue].getJobScheduler(item.id)) continue;
      await this.register(item);
      missing.push(item.id);
    }
    return missing;
  }

  private check(why: string): Promise<void> {
    this.checking ??= this.ensure()
      .then((missing) => {
        if (missing.length) this.logger.warn({ schedulers: missing, why }, 'job schedulers were missing: re-created');
      })
      .catch((error: unknown) => this.logger.warn({ err: error, why }, 'could not check the job schedulers'))
      .finally(() => {
        this.checking = undefined;
      });
    return this.checking;
  }

  /** An upsert: any number of workers may do it at once. Runs are not kept once done. */
  private async register({ queue, id, everyMs, data }: Schedule): Promise<void> {
    await this.queues[queue].upsertJobScheduler(
      id,
      { every: everyMs },
      { name: id, data, opts: { removeOnComplete: true, removeOnFail: { count: 100 } } },
    );
  }
}
