import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { sql } from '../../core/database/sql.js';
import { SessionService } from '../../core/auth/session.service.js';
import { QUEUES, type JobPayloads } from '../../core/queue/queues.js';

/** Housekeeping jobs; each is idempotent. */
@Processor(QUEUES.maintenance)
export class MaintenanceProcessor extends WorkerHost {
  private readonly logger = new Logger(MaintenanceProcessor.name);

  constructor(
    private readonly sessions: SessionService,
    @InjectDataSource() private readonly db: DataSource,
  ) {
    super();
  }

  async process(job: Job<JobPayloads['maintenance']>): Promise<{ purged: number }> {
    switch (job.data.task) {
      case 'sessions.purge': {
        const purged = await this.sessions.purgeEnded();
        if (purged > 0) this.logger.log({ purged }, 'ended sessions purged');
        return { purged };
      }
      case 'idempotency.purge': {
        // Keys are honoured for 24 hours; a day more keeps a late retry from reading as new.
        const { count } = await sql(
          this.db,
          `DELETE FROM idempotency_keys WHERE created_at < now() - interval '48 hours'`,
        );
        return { purged: count };
      }
    }
  }
}
