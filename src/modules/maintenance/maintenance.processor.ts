import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { SessionService } from '../../core/auth/session.service.js';
import { QUEUES, type JobPayloads } from '../../core/queue/queues.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';

/** Housekeeping jobs; each is idempotent, and each service keeps its own retention. */
@Processor(QUEUES.maintenance)
export class MaintenanceProcessor extends WorkerHost {
  constructor(
    private readonly sessions: SessionService,
    private readonly idempotency: IdempotencyService,
  ) {
    super();
  }

  async process(job: Job<JobPayloads['maintenance']>): Promise<{ purged: number }> {
    switch (job.data.task) {
      case 'sessions.purge':
        return { purged: await this.sessions.purgeEnded() };
      case 'idempotency.purge':
        return { purged: await this.idempotency.purgeExpired() };
    }
  }
}
