import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { AdjustmentsService } from './adjustments.service.js';
import { LedgerAdminController } from './ledger-admin.controller.js';
import { LedgerService } from './ledger.service.js';
import { StatementsGateway } from './statements.gateway.js';
import { StatementsService } from './statements.service.js';

@Module({
  imports: [AccountsModule, AuditModule],
  controllers: [LedgerAdminController],
  providers: [LedgerService, StatementsService, StatementsGateway, AdjustmentsService],
  exports: [LedgerService],
})
export class LedgerModule {}
