import { Module } from '@nestjs/common';
import { FxModule } from '../fx/fx.module.js';
import { AccountsGateway } from './accounts.gateway.js';
import { AccountsService } from './accounts.service.js';

@Module({ imports: [FxModule], providers: [AccountsService, AccountsGateway], exports: [AccountsService] })
export class AccountsModule {}
