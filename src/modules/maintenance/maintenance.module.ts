import { Module } from '@nestjs/common';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { MaintenanceProcessor } from './maintenance.processor.js';

@Module({ imports: [IdempotencyModule], providers: [MaintenanceProcessor] })
export class MaintenanceModule {}
