// The refusals of payments, with stable codes; `field` names the request field at fault.
import { DomainError } from '../../core/errors/domain-error.js';
import { formatForMessage, toMajor } from '../../shared/money.js';
import type { CurrencyConfig } from '../../core/config/business-config.js';

export const paymentErrors = {
  /** No such payment, or not the caller's (the same answer: nobody learns of another's payment). */
  notFound: () => new DomainError('TRANSACTION_NOT_FOUND', 'transaction not found', { field: 'request_ref' }),

  notCancellable: (status: string) =>
    new DomainError('PAYMENT_NOT_CANCELLABLE', `deposit is ${status} and can no longer be cancelled`, {
      field: 'request_ref',
    }),

  depositFeeTooHigh: (fee: bigint, currency: CurrencyConfig) =>
    DomainError.validation('amount', `amount must be more than the deposit fee of ${formatForMessage(fee, currency)}`),

  noWallet: () => new DomainError('ACCOUNT_NOT_FOUND', 'account not found', { field: 'currency' }),

  /** A partner event's currency is not the payment's. */
  otherCurrency: (given: unknown, expected: string) =>
    DomainError.validation('currency', `currency ${String(given)} does not match the payment's ${expected}`),

  /** A partner event's amount is not the payment's. */
  otherAmount: (expectedMinor: bigint, currency: CurrencyConfig) =>
    DomainError.validation(
      'amount',
      `amount does not match the payment's ${toMajor(expectedMinor, currency.decimals)}`,
    ),
};
