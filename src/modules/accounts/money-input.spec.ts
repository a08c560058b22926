import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../core/config/app-config.js';
import type { CurrencyConfig } from '../../core/config/business-config.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { conversionCurrenciesOf } from './money-input.js';

const currency = (code: string, decimals: number): CurrencyConfig => ({
  code,
  name: code,
  decimals,
  maxAmount: 10n ** 15n,
});
const config = {
  business: {
    currencies: new Map([
      ['USD', currency('USD', 2)],
      ['EUR', currency('EUR', 2)],
    ]),
  },
} as unknown as AppConfig;

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    const { code, field, message } = error as DomainError;
    return { code, field, message };
  }
  throw new Error('not refused');
};

describe('conversionCurrenciesOf', () => {
  const from = (code: string) => ({ code, field: 'from_currency' });
  const to = (code: string | undefined) => ({ code, field: 'to_currency' });

  it('reads a pair of configured, different currencies', () => {
    const { source, dest } = conversionCurrenciesOf(config, from('USD'), to('EUR'));
    expect([source.code, dest.code]).toEqual(['USD', 'EUR']);
  });

  it('refuses, in this order, an unknown source, a missing or unknown destination, the same currency twice', () => {
    expect(refusal(() => conversionCurrenciesOf(config, from('XXX'), to(undefined)))).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'from_currency',
      message: 'unknown currency XXX',
    });
    expect(refusal(() => conversionCurrenciesOf(config, from('USD'), to(undefined)))).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'to_currency',
      message: 'to_currency is required for conversion',
    });
    expect(refusal(() => conversionCurrenciesOf(config, from('USD'), to('XXX'))).field).toBe('to_currency');
    expect(refusal(() => conversionCurrenciesOf(config, from('USD'), to('USD')))).toEqual({
      code: 'VALIDATION_FAILED',
      field: 'to_currency',
      message: 'to_currency must differ from from_currency',
    });
  });
});
