// The fee schedule of config/fees.json applied to an amount. calculate_fee and the operations
// themselves both ask here, so a quote is always exactly what the operation charges; and
// calculate_fee reads its amount and currencies as the operations do (money-input.ts), so it
// refuses what they refuse.
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config.js';
import type { FeeTransactionType } from '../../core/config/business-config.js';
import { parseScaled } from '../../shared/decimal.js';
import { computeFee, rateToString, shareOf, type FeeRule } from '../../shared/fees.js';
import { toMajor } from '../../shared/money.js';
import { amountOf, conversionCurrenciesOf, currencyOf } from '../accounts/money-input.js';
import type { CalculateFeeRequestDto } from './dto/calculate-fee-request.dto.js';

export interface FeeQuote {
  /** Minor units of the operation's currency. */
  fee: bigint;
  rule: FeeRule;
  /** The applied rate as the API shows it ("0.02"). */
  appliedRate: string;
}

/** calculate_fee's answer (seed 000). */
export interface FeeQuoteReply {
  fee_type: 'FEE_TYPE_PLATFORM';
  /** The fee, in the source currency. */
  amount: number;
  currency: string;
  applied_rate: string;
  fixed: number;
  transaction_type: FeeTransactionType;
}

@Injectable()
export class FeesService {
  constructor(private readonly config: AppConfig) {}

  ruleFor(type: FeeTransactionType, currency: string): FeeRule {
    const schedule = this.config.business.fees.schedule[type];
    const rule = schedule[currency] ?? schedule.default;
    const { decimals } = this.config.business.currencies.get(currency)!;
    return {
      rateMicros: rule.rateMicros,
      fixedMinor: parseScaled(rule.fixed, decimals),
      minMinor: parseScaled(rule.min, decimals),
      maxMinor: rule.max === null ? null : parseScaled(rule.max, decimals),
    };
  }

  quote(type: FeeTransactionType, amountMinor: bigint, currency: string): FeeQuote {
    const rule = this.ruleFor(type, currency);
    return { fee: computeFee(amountMinor, rule), rule, appliedRate: rateToString(rule.rateMicros) };
  }

  /** The fee an operation would charge, for calculate_fee, from the request as the operation reads it. */
  calculate(request: CalculateFeeRequestDto): FeeQuoteReply {
    const currency =
      request.transaction_type === 'conversion'
        ? conversionCurrenciesOf(
            this.config,
            { code: request.source_currency, field: 'source_currency' },
            { code: request.target_currency, field: 'target_currency' },
          ).source
        : currencyOf(this.config, request.source_currency, 'source_currency');
    const quote = this.quote(request.transaction_type, amountOf(request.amount, currency), currency.code);
    return {
      fee_type: 'FEE_TYPE_PLATFORM',
      amount: toMajor(quote.fee, currency.decimals),
      currency: currency.code,
      applied_rate: quote.appliedRate,
      fixed: toMajor(quote.rule.fixedMinor, currency.decimals),
      transaction_type: request.transaction_type,
    };
  }

  /** The part of a withdrawal fee an agent earns. */
  agentCommission(feeMinor: bigint): bigint {
    return shareOf(feeMinor, this.config.business.fees.agentCommissionShareMicros);
  }
}
