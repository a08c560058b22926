import { Module } from '@nestjs/common';
import { FxModule } from '../fx/fx.module.js';
import { AccountReadsService } from './account-reads.service.js';
import { AccountsGateway } from './accounts.gateway.js';
import { AccountsService } from './accounts.service.js';

/** AccountsService: what the ledger, payments, the market and sign-up use, in the API and the worker. */
@Module({ providers: [AccountsService], exports: [AccountsService] })
export class AccountsModule {}

/** The API side: the wallet reads of `/user` (get_accounts, get_account_balance, get_owner_summary). */
@Module({ imports: [AccountsModule, FxModule], providers: [AccountReadsService, AccountsGateway] })
export class AccountsApiModule {}
