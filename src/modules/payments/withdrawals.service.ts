// withdraw_request consumes a verification token (purpose `withdrawal`, bound to the amount,
// currency and destination when the token names them), creates the withdrawal `processing` and
// holds amount + fee on the user's wallet, in one transaction (payment-intake.service.ts): a
// refusal leaves the token unspent and holds nothing. The worker then sends it to its partner, or
// has its agent pay it at once (payment-dispatch.service.ts); its ending captures or gives back
// the hold (payment-settlement.service.ts).
import { Injectable } from '@nestjs/common';
import { AccountsService } from '../accounts/accounts.service.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { VerificationTokensService } from '../verification/verification-tokens.service.js';
import type { WithdrawRequestDto } from './dto/payment-requests.dto.js';
import { PaymentIntakeService } from './payment-intake.service.js';
import { holdReference } from './payment-postings.js';
import { insertWithdrawal } from './payment-store.js';
import { PaymentTermsService } from './payment-terms.service.js';
import { withdrawalCreatedView, type WithdrawalCreated } from './payment-views.js';
import { paymentErrors } from './payments.errors.js';

@Injectable()
export class WithdrawalsService {
  constructor(
    private readonly terms: PaymentTermsService,
    private readonly tokens: VerificationTokensService,
    private readonly accounts: AccountsService,
    private readonly ledger: LedgerService,
    private readonly intake: PaymentIntakeService,
  ) {}

  async request(userId: string, request: WithdrawRequestDto): Promise<WithdrawalCreated> {
    const terms = this.terms.withdrawal(request);
    const { currency, amount, fee, destination, route } = terms;
    const claim = { key: request.idempotency_key, requestType: 'withdraw_request', hash: terms.hash };
    return this.intake.open('withdrawals', userId, claim, async (tx) => {
      await this.tokens.consume(
        userId,
        request.verification_token,
        'withdrawal',
        { amount, currency: currency.code, destination },
        tx,
      );
      const wallet = await this.accounts.walletId(tx, userId, currency.code);
      if (!wallet) throw paymentErrors.noWallet();
      const row = await insertWithdrawal(tx, {
        userId,
        partnerId: route.partnerId,
        agentId: route.agent?.id ?? null,
        service: route.service,
        destination,
        currency: currency.code,
        amount,
        fee,
        agentCommission: terms.commission,
      });
      await this.ledger.placeHold(tx, wallet, amount + fee, holdReference('withdrawals', row.id));
      const agentAccount = route.agent && this.accounts.systemAccountNumber('agent', currency.code, route.agent.id);
      return { row, reply: withdrawalCreatedView(row, currency, route, agentAccount) };
    });
  }
}
