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

/**
 * The currencies of a conversion: both configured, the destination given and not the source.
 * convert_and_transfer and calculate_fee read theirs here, so they refuse the same requests.
 */
export function conversionCurrenciesOf(
  config: AppConfig,
  source: { code: string; field: string },
  dest: { code: string | undefined; field: string },
): { source: CurrencyConfig; dest: CurrencyConfig } {
  const from = currencyOf(config, source.code, source.field);
  if (dest.code === undefined) throw DomainError.validation(dest.field, `${dest.field} is required for conversion`);
  const to = currencyOf(config, dest.code, dest.field);
  if (to.code === from.code) throw DomainError.validation(dest.field, `${dest.field} must differ from ${source.field}`);
  return { source: from, dest: to };
}
