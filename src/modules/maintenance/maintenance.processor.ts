import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { SessionService } from '../../core/auth/session.service.js';
import { QUEUES, type JobPayloads } from '../../core/queue/queues.js';

/** Housekeeping jobs; each is idempotent. */
@Processor(QUEUES.maintenance)
export class MaintenanceProcessor extends WorkerHost {
  private readonly logger = new Logger(MaintenanceProcessor.name);

  constructor(private readonly sessions: SessionService) {
    super();
  }

  async process(job: Job<JobPayloads['maintenance']>): Promise<{ purged: number }> {
    switch (job.data.task) {
      case 'sessions.purge': {
        const purged = await this.sessions.purgeEnded();
        if (purged > 0) this.logger.log({ purged }, 'ended sessions purged');
        return { purged };
      }
    }
  }
}
