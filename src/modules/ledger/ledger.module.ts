import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { UsersCoreModule } from '../users/users.module.js';
import { AdjustmentsService } from './adjustments.service.js';
import { LedgerAdminController } from './ledger-admin.controller.js';
import { LedgerCheckService } from './ledger-check.service.js';
import { LedgerService } from './ledger.service.js';
import { PostingQueue } from './posting-queue.js';
import { StatementsGateway } from './statements.gateway.js';
import { StatementsService } from './statements.service.js';

@Module({
  imports: [AccountsModule, AuditModule, IdempotencyModule, UsersCoreModule],
  controllers: [LedgerAdminController],
  providers: [
    LedgerService,
    PostingQueue,
    StatementsService,
    StatementsGateway,
    AdjustmentsService,
    LedgerCheckService,
  ],
  exports: [LedgerService, PostingQueue],
})
export class LedgerModule {}
