// The rules every posting and hold obeys, checked in memory on locked accounts before anything is
// written (PostgreSQL enforces the same at commit: see the ledger migration's header). Pure.
import type { CurrencyConfig } from '../../core/config/business-config.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { toDecimalString, toMajor } from '../../shared/money.js';
import type { LockedAccount, PostingLine } from './ledger.types.js';

/** At least two lines, positive amounts, and debits equal to credits in each currency. */
export function checkBalanced(lines: readonly PostingLine[], accounts: ReadonlyMap<string, LockedAccount>): void {
  if (lines.length < 2) throw new Error('a journal needs at least two lines');
  const net = new Map<string, bigint>();
  for (const line of lines) {
    if (line.amount <= 0n) throw new Error('posting lines carry positive amounts');
    const { currency } = accounts.get(line.accountId)!;
    net.set(currency, (net.get(currency) ?? 0n) + (line.direction === 'CR' ? line.amount : -line.amount));
  }
  for (const [currency, amount] of net) {
    if (amount !== 0n) throw new Error(`the journal does not balance in ${currency}: credits - debits = ${amount}`);
  }
}

/** An inactive account takes no postings; a locked wallet only administrative adjustments. */
export function checkUsable(
  account: Pick<LockedAccount, 'accountNumber' | 'kind' | 'isActive' | 'isLocked'>,
  administrative: boolean,
  field?: string,
): void {
  if (!account.isActive) {
    throw new DomainError('ACCOUNT_NOT_FOUND', `account ${account.accountNumber} is not active`, { field });
  }
  if (account.isLocked && account.kind === 'user_wallet' && !administrative) {
    throw new DomainError('ACCOUNT_LOCKED', `account ${account.accountNumber} is locked`, { field });
  }
}

/** A user wallet never ends below zero available (balance - pending_debit). */
export function checkAvailable(
  account: LockedAccount,
  before: LockedAccount,
  currencies: ReadonlyMap<string, CurrencyConfig>,
): void {
  if (account.kind !== 'user_wallet' || account.balance - account.pendingDebit >= 0n) return;
  const currency = currencies.get(account.currency)!;
  const available = before.balance - before.pendingDebit;
  throw new DomainError(
    'INSUFFICIENT_BALANCE',
    `insufficient balance: available ${toDecimalString(available, currency.decimals)} ${currency.code}`,
    { data: { available: toMajor(available, currency.decimals), currency: currency.code } },
  );
}
