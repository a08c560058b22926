import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { FeesModule } from '../fees/fees.module.js';
import { FxModule } from '../fx/fx.module.js';
import { LedgerModule } from '../ledger/ledger.module.js';
import { TransfersGateway } from './transfers.gateway.js';
import { TransfersService } from './transfers.service.js';

@Module({
  imports: [LedgerModule, AccountsModule, FeesModule, FxModule],
  providers: [TransfersService, TransfersGateway],
  exports: [TransfersService],
})
export class TransfersModule {}
