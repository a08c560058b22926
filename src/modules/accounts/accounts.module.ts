import { Module } from '@nestjs/common';
import { FxModule } from '../fx/fx.module.js';
import { AccountReadsService } from './account-reads.service.js';
import { AccountsGateway } from './accounts.gateway.js';
import { AccountsService } from './accounts.service.js';

@Module({
  imports: [FxModule],
  providers: [AccountsService, AccountReadsService, AccountsGateway],
  exports: [AccountsService],
})
export class AccountsModule {}
