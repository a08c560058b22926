// deposit_request: a deposit is created `pending`, with its payment channel and its idempotency
// key, in one transaction (payment-intake.service.ts); the worker then sends it to its partner
// (payment-dispatch.service.ts) and the partner's webhook ends it (payment-settlement.service.ts).
import { Injectable } from '@nestjs/common';
import { LedgerService } from '../ledger/ledger.service.js';
import type { DepositRequestDto } from './dto/payment-requests.dto.js';
import { PaymentIntakeService } from './payment-intake.service.js';
import { insertDeposit } from './payment-store.js';
import { PaymentTermsService } from './payment-terms.service.js';
import { depositCreatedView, type DepositCreated } from './payment-views.js';

@Injectable()
export class DepositsService {
  constructor(
    private readonly terms: PaymentTermsService,
    private readonly ledger: LedgerService,
    private readonly intake: PaymentIntakeService,
  ) {}

  async request(userId: string, request: DepositRequestDto): Promise<DepositCreated> {
    const terms = this.terms.deposit(request);
    const { currency, partner } = terms;
    const claim = { key: request.idempotency_key, requestType: 'deposit_request', hash: terms.hash };
    return this.intake.open('deposits', userId, claim, async (tx) => {
      // A wallet that could not take the credit is refused now rather than at completion.
      await this.ledger.checkWalletUsable(tx, userId, currency.code, 'currency');
      const row = await insertDeposit(tx, {
        userId,
        partnerId: partner.id,
        service: request.service,
        paymentMethod: terms.paymentMethod,
        currency: currency.code,
        amount: terms.amount,
        fee: terms.fee,
        ttlSeconds: terms.ttlSeconds,
      });
      return { row, reply: depositCreatedView(row, currency, partner) };
    });
  }
}
