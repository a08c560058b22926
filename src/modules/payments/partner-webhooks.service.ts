// Applies a verified partner event once: the event_id is claimed (unique per partner) in the same
// transaction as the payment's step and its posting. Twenty copies at once: one inserts, the
// others wait on the unique index and then find it taken.
import { Injectable } from '@nestjs/common';
import { Transactions } from '../../core/database/transactions.js';
import type { PartnerWebhookDto } from './dto/partner-webhook.dto.js';
import { PaymentSettlementService } from './payment-settlement.service.js';
import { markWebhookIgnored, recordWebhookEvent } from './payment-store.js';
import type { WebhookOutcome } from './payments.types.js';

@Injectable()
export class PartnerWebhooksService {
  constructor(
    private readonly transactions: Transactions,
    private readonly settlement: PaymentSettlementService,
  ) {}

  async receive(partnerId: string, event: PartnerWebhookDto): Promise<WebhookOutcome | 'duplicate'> {
    return this.transactions.run(async (tx) => {
      const recorded = await recordWebhookEvent(tx, partnerId, event);
      if (!recorded) return 'duplicate';
      const outcome = await this.settlement.applyPartnerEvent(tx, partnerId, event);
      if (outcome === 'ignored') await markWebhookIgnored(tx, recorded);
      return outcome;
    });
  }
}
