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
import { PaymentDispatchService } from './payment-dispatch.service.js';
import { PaymentEvents } from './payment-events.js';
import { PaymentIntakeService } from './payment-intake.service.js';
import { PaymentJobsService } from './payment-jobs.service.js';
import { PaymentReadsService } from './payment-reads.service.js';
import { PaymentSettlementService } from './payment-settlement.service.js';
import { PaymentTermsService } from './payment-terms.service.js';
import { PaymentsAdminController } from './payments-admin.controller.js';
import { DepositExpiryProcessor, DepositJobsProcessor, PayoutJobsProcessor } from './payment-jobs.processors.js';
import { PaymentsRealtimeRegistration } from './payments-realtime.registration.js';
import { PaymentsGateway } from './payments.gateway.js';
import { WithdrawalsService } from './withdrawals.service.js';

/**
 * A payment's life, what both the API and the worker need: its terms and its creation (deposits,
 * withdrawals, intake), sending it to its partner (dispatch, jobs), its ending (settlement), and
 * the events it announces.
 */
@Module({
  imports: [AccountsModule, FeesModule, IdempotencyModule, LedgerModule, PartnersCoreModule, VerificationCoreModule],
  providers: [
    PaymentEvents,
    PaymentTermsService,
    PaymentSettlementService,
    PaymentDispatchService,
    PaymentJobsService,
    PaymentIntakeService,
    DepositsService,
    WithdrawalsService,
  ],
  exports: [DepositsService, WithdrawalsService, PaymentSettlementService, PaymentJobsService],
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

/** The worker side: partner jobs, the re-sending of lost ones, and the expiry of deposits. */
@Module({
  imports: [PaymentsCoreModule],
  providers: [DepositJobsProcessor, PayoutJobsProcessor, DepositExpiryProcessor],
})
export class PaymentJobsModule {}
