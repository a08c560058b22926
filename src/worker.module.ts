import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { Logger } from 'pino';
import type { AppConfig } from './core/config/app-config.js';
import { CoreModule } from './core/core.module.js';
import { ProcessorsCheck } from './core/queue/processors.check.js';
import { JobSchedules } from './core/queue/schedules.js';
import { OutboxJobsModule } from './core/realtime/outbox.processor.js';
import { MaintenanceModule } from './modules/maintenance/maintenance.module.js';
import { MarketJobsModule } from './modules/market/market.module.js';
import { PaymentJobsModule } from './modules/payments/payments.module.js';
import { VerificationJobsModule } from './modules/verification/verification-jobs.module.js';

/** The BullMQ processors of every feature, the check that no queue is left without one, and the repeating jobs. */
@Module({
  imports: [
    DiscoveryModule,
    MaintenanceModule,
    OutboxJobsModule,
    VerificationJobsModule,
    PaymentJobsModule,
    MarketJobsModule,
  ],
  providers: [ProcessorsCheck, JobSchedules],
})
export class ProcessorsModule {}

/** The worker process: processors only, no HTTP. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return { module: WorkerModule, imports: [CoreModule.forRoot(config, logger), ProcessorsModule] };
  }
}
