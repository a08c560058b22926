// deposit_request: a deposit is created `pending`, with its payment channel and its idempotency
// key, and announces what it will credit on the user's wallet (a CR hold: pending_credit; the
// first deposit in a currency opens the wallet), in one transaction (payment-intake.service.ts).
// The worker then sends it to its partner (payment-dispatch.service.ts) and the partner's webhook
// ends it (payment-settlement.service.ts): its credit takes the hold, or the hold is released.
import { Injectable } from '@nestjs/common';
import { AccountsService } from '../accounts/accounts.service.js';
import { LedgerService } from '../ledger/ledger.service.js';
import type { DepositRequestDto } from './dto/payment-requests.dto.js';
import { PaymentIntakeService } from './payment-intake.service.js';
import { holdReference } from './payment-postings.js';
import { insertDeposit } from './payment-store.js';
import { PaymentTermsService } from './payment-terms.service.js';
import { depositCreatedView, type DepositCreated } from './payment-views.js';

@Injectable()
export class DepositsService {
  constructor(
    private readonly terms: PaymentTermsService,
    private readonly accounts: AccountsService,
    private readonly ledger: LedgerService,
    private readonly intake: PaymentIntakeService,
  ) {}

  async request(userId: string, request: DepositRequestDto): Promise<DepositCreated> {
    const terms = this.terms.deposit(request);
    const { currency, partner } = terms;
    const claim = { key: request.idempotency_key, requestType: 'deposit_request', hash: terms.hash };
    return this.intake.open('deposits', userId, claim, async (tx) => {
      const wallet = await this.accounts.ensureWallet(tx, userId, currency.code);
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
      // A wallet that could not take the credit (inactive, locked) refuses the hold: refused now
      // rather than at completion.
      await this.ledger.placeHold(tx, wallet, terms.amount - terms.fee, holdReference('deposits', row.id), {
        direction: 'CR',
        field: 'currency',
      });
      return { row, reply: depositCreatedView(row, currency, partner) };
    });
  }
}
