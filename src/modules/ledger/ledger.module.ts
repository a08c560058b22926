import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { UsersCoreModule } from '../users/users.module.js';
import { AdjustmentsService } from './adjustments.service.js';
import { LedgerAdminController } from './ledger-admin.controller.js';
import { JournalIds } from './journal-ids.js';
import { LedgerCheckService } from './ledger-check.service.js';
import { LedgerService } from './ledger.service.js';
import { PostingQueue } from './posting-queue.js';
import { StatementsGateway } from './statements.gateway.js';
import { StatementsService } from './statements.service.js';

/**
 * The ledger's services: what the API and the worker (through market and payments) share. Its
 * transports are LedgerApiModule's, so importing the ledger brings no gateway or controller.
 */
@Module({
  imports: [AccountsModule, AuditModule, IdempotencyModule, UsersCoreModule],
  providers: [LedgerService, JournalIds, PostingQueue, StatementsService, AdjustmentsService],
  exports: [LedgerService, PostingQueue, StatementsService, AdjustmentsService],
})
export class LedgerModule {}

/** The API side: statements over `/user`, adjustments and the ledger check for admins. */
@Module({
  imports: [LedgerModule],
  controllers: [LedgerAdminController],
  providers: [StatementsGateway, LedgerCheckService],
})
export class LedgerApiModule {}
