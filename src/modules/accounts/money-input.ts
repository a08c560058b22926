// Reading client amounts and currency codes into the ledger's terms, with the API's errors.
import type { AppConfig } from '../../core/config/app-config.js';
import type { CurrencyConfig } from '../../core/config/business-config.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { AmountError, parseAmount } from '../../shared/money.js';

export function currencyOf(config: AppConfig, code: string, field = 'currency'): CurrencyConfig {
  const currency = config.business.currencies.get(code);
  if (!currency) throw DomainError.validation(field, `unknown currency ${code}`);
  return currency;
}

export function amountOf(input: unknown, currency: CurrencyConfig, field = 'amount'): bigint {
  try {
    return parseAmount(input, currency, field);
  } catch (error) {
    if (error instanceof AmountError) throw DomainError.validation(error.field, error.message);
    throw error;
  }
}
