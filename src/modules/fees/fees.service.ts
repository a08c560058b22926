// The fee schedule of config/fees.json applied to an amount. calculate_fee and the operations
// themselves both ask here, so a quote is always exactly what the operation charges.
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config.js';
import type { FeeTransactionType } from '../../core/config/business-config.js';
import { parseScaled } from '../../shared/decimal.js';
import { computeFee, rateToString, shareOf, type FeeRule } from '../../shared/fees.js';

export interface FeeQuote {
  /** Minor units of the operation's currency. */
  fee: bigint;
  rule: FeeRule;
  /** The applied rate as the API shows it ("0.02"). */
  appliedRate: string;
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

  /** The part of a withdrawal fee an agent earns. */
  agentCommission(feeMinor: bigint): bigint {
    return shareOf(feeMinor, this.config.business.fees.agentCommissionShareMicros);
  }
}
