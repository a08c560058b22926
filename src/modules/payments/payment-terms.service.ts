// What a deposit_request or a withdraw_request comes to, before anything is written: its currency
// and exact amount, where the money goes (a partner, or an agent), its fee (and the agent's
// commission), and the hash its idempotency key is bound to. Refusals here are the request's.
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config.js';
import type { CurrencyConfig } from '../../core/config/business-config.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { amountOf, currencyOf } from '../accounts/money-input.js';
import { FeesService } from '../fees/fees.service.js';
import { requestHash } from '../idempotency/idempotency.service.js';
import type { Partner } from '../partners/partners.types.js';
import { PartnersService } from '../partners/partners.service.js';
import type { DepositRequestDto, WithdrawRequestDto } from './dto/payment-requests.dto.js';
import { paymentErrors } from './payments.errors.js';
import type { WithdrawalRoute } from './payments.types.js';

interface Terms {
  currency: CurrencyConfig;
  /** Minor units of `currency`. */
  amount: bigint;
  fee: bigint;
  /** What the request's idempotency key is bound to. */
  hash: Buffer;
}

export interface DepositTerms extends Terms {
  partner: Partner;
  paymentMethod: string | null;
  /** It expires this many seconds after its creation. */
  ttlSeconds: number;
}

export interface WithdrawalTerms extends Terms {
  destination: string;
  route: WithdrawalRoute;
  /** The agent's part of the fee (zero without an agent). */
  commission: bigint;
}

@Injectable()
export class PaymentTermsService {
  constructor(
    private readonly config: AppConfig,
    private readonly partners: PartnersService,
    private readonly fees: FeesService,
  ) {}

  /** The partner is `partner_id` if it qualifies, else the first of `service` serving the currency; the fee comes off what is credited. */
  deposit(request: DepositRequestDto): DepositTerms {
    const currency = currencyOf(this.config, request.currency);
    const amount = amountOf(request.amount, currency);
    const partner = this.partners.pick(request.service, currency.code, request.partner_id);
    const { fee } = this.fees.quote('deposit', amount, currency.code);
    if (fee >= amount) throw paymentErrors.depositFeeTooHigh(fee, currency);
    const paymentMethod = request.payment_method ?? null;
    const hash = requestHash({
      amount: amount.toString(),
      currency: currency.code,
      service: request.service,
      partner_id: partner.id,
      payment_method: paymentMethod,
    });
    return { currency, amount, fee, hash, partner, paymentMethod, ttlSeconds: this.config.env.DEPOSIT_TTL_SECONDS };
  }

  /** The fee is held on top of the amount; an agent earns its commission out of it. */
  withdrawal(request: WithdrawRequestDto): WithdrawalTerms {
    const currency = currencyOf(this.config, request.currency);
    const amount = amountOf(request.amount, currency);
    const destination = request.destination.trim();
    const route = this.route(request, currency.code);
    const { fee } = this.fees.quote('withdrawal', amount, currency.code);
    const commission = route.agent ? this.fees.agentCommission(fee) : 0n;
    const hash = requestHash({
      amount: amount.toString(),
      currency: currency.code,
      destination,
      service: route.service,
      agent_id: route.agent?.id ?? null,
      verification_token: request.verification_token ?? null,
    });
    return { currency, amount, fee, hash, destination, route, commission };
  }

  /** Where a withdrawal's money goes: an agent (agent_id), or a partner of the service serving the currency. */
  private route(request: WithdrawRequestDto, currency: string): WithdrawalRoute {
    if (request.agent_id !== undefined) {
      const agent = this.config.business.agents.find((a) => a.id === request.agent_id);
      if (!agent) throw DomainError.validation('agent_id', `unknown agent ${request.agent_id}`);
      if (!agent.currencies.includes(currency)) {
        throw DomainError.validation('agent_id', `agent ${agent.id} does not pay out ${currency}`);
      }
      return { partnerId: null, service: request.service ?? null, agent: { id: agent.id, name: agent.name } };
    }
    const partner = this.partners.pick(request.service, currency);
    return { partnerId: partner.id, service: partner.service, agent: null };
  }
}
