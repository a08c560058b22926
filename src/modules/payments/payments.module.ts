import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { FeesModule } from '../fees/fees.module.js';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { LedgerModule } from '../ledger/ledger.module.js';
import { PartnersCoreModule } from '../partners/partners-core.module.js';
import { VerificationCoreModule } from '../verification/verification-core.module.js';
import { DepositsService } from './deposits.service.js';
import { PartnerSignatureGuard } from './partner-signature.guard.js';
import { PartnerWebhooksController } from './partner-webhooks.controller.js';
import { PartnerWebhooksService } from './partner-webhooks.service.js';
import { PaymentReadsService } from './payment-reads.service.js';
import { PaymentsAdminController } from './payments-admin.controller.js';
import { DepositExpiryProcessor, DepositJobsProcessor, PayoutJobsProcessor } from './payment-jobs.processors.js';
import { PaymentsRealtimeRegistration } from './payments-realtime.registration.js';
import { PaymentsGateway } from './payments.gateway.js';
import { WithdrawalsService } from './withdrawals.service.js';

/** Deposits, withdrawals and their history: what both the API and the worker need. */
@Module({
  imports: [AccountsModule, FeesModule, IdempotencyModule, LedgerModule, PartnersCoreModule, VerificationCoreModule],
  providers: [DepositsService, WithdrawalsService],
  exports: [DepositsService, WithdrawalsService],
})
export class PaymentsCoreModule {}

/** The API side: requests, the payment channels, partner webhooks. */
@Module({
  imports: [PaymentsCoreModule, PartnersCoreModule, LedgerModule],
  controllers: [PartnerWebhooksController, PaymentsAdminController],
  providers: [
    PaymentReadsService,
    PaymentsGateway,
    PartnerWebhooksService,
    PartnerSignatureGuard,
    PaymentsRealtimeRegistration,
  ],
})
export class PaymentsModule {}

/** The worker side: partner jobs and the deposit sweep. */
@Module({
  imports: [PaymentsCoreModule],
  providers: [DepositJobsProcessor, PayoutJobsProcessor, DepositExpiryProcessor],
})
export class PaymentJobsModule {}
