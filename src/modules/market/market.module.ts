import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { LedgerModule } from '../ledger/ledger.module.js';
import { MarketData } from './market-data.service.js';
import { MarketGateway } from './market.gateway.js';
import { MarketRealtimeRegistration } from './market-realtime.registration.js';
import { OrderBooks } from './order-books.js';
import { OrderMatching } from './order-matching.js';
import { OrdersRepository } from './orders.repository.js';
import { OrdersService } from './orders.service.js';

/** The books, matching and market data: what both the API and the worker need. */
@Module({
  imports: [LedgerModule, AccountsModule, IdempotencyModule],
  providers: [OrderBooks, OrdersRepository, OrderMatching, MarketData, OrdersService],
  exports: [OrdersService, MarketData, OrderBooks],
})
export class MarketCoreModule {}

/** The API side: requests on /user, order channels. */
@Module({
  imports: [MarketCoreModule],
  providers: [MarketGateway, MarketRealtimeRegistration],
})
export class MarketModule {}
