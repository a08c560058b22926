import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { LedgerModule } from '../ledger/ledger.module.js';
import { PublicRateLimitGuard } from '../../core/http/public-rate-limit.guard.js';
import { MarketData } from './market-data.service.js';
import { MarketController } from './market.controller.js';
import { DeadManSwitch } from './dead-man-switch.js';
import { MarketJobsProcessor } from './market-jobs.processor.js';
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
  exports: [OrdersService, MarketData, OrderBooks, OrdersRepository],
})
export class MarketCoreModule {}

/** The API side: requests on /user, order channels and depth snapshots, public REST. */
@Module({
  imports: [MarketCoreModule],
  controllers: [MarketController],
  providers: [MarketGateway, MarketRealtimeRegistration, PublicRateLimitGuard],
})
export class MarketModule {}

/** The worker side: ticks and the dead man's switch. */
@Module({
  imports: [MarketCoreModule],
  providers: [MarketJobsProcessor, DeadManSwitch],
})
export class MarketJobsModule {}
