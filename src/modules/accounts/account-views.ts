// Wallets as the API shows them (seed 000's get_accounts, get_account_balance, get_owner_summary):
// amounts in major units, from the rows AccountsService reads. Pure, so the rounding is tested
// beside it.
import { convertMinor } from '../../shared/fx.js';
import { toMajor } from '../../shared/money.js';
import type { AccountRow } from './accounts.service.js';

/** A wallet's amounts in major units; available = balance − pending_debit. */
export interface WalletBalances {
  balance: number;
  available_balance: number;
  pending_debit: number;
  pending_credit: number;
}

export interface WalletView extends WalletBalances {
  id: number;
  account_number: string;
  currency: string;
  purpose: 'ACCOUNT_PURPOSE_WALLET';
  account_type: 'ACCOUNT_TYPE_REAL';
  is_active: boolean;
  is_locked: boolean;
  created_at: string;
}

/** The reads below carry `as_of_seq`: the user channel's seq they are consistent with. */
export interface AccountsReply {
  accounts: WalletView[];
  count: number;
  as_of_seq: number;
}

export interface AccountBalanceReply extends WalletBalances {
  account_number: string;
  currency: string;
  last_transaction: string | null;
  version: number;
  as_of_seq: number;
}

export interface OwnerSummaryReply {
  account_balances: { account_number: string; currency: string; balance: number; available_balance: number }[];
  total_balance_usd: number;
  total_accounts: number;
  as_of_seq: number;
}

/** The decimals of a configured currency. */
export type DecimalsOf = (currency: string) => number;

/** Available is what no hold sets aside: balance − pending_debit. */
export function balancesOf(account: AccountRow, decimals: number): WalletBalances {
  const balance = BigInt(account.balance);
  const pendingDebit = BigInt(account.pending_debit);
  return {
    balance: toMajor(balance, decimals),
    available_balance: toMajor(balance - pendingDebit, decimals),
    pending_debit: toMajor(pendingDebit, decimals),
    pending_credit: toMajor(BigInt(account.pending_credit), decimals),
  };
}

export function toWalletView(account: AccountRow, decimals: number): WalletView {
  // Key order is the wire order: balances last, as clients have always seen them.
  return {
    id: Number(account.id),
    account_number: account.account_number,
    currency: account.currency,
    purpose: 'ACCOUNT_PURPOSE_WALLET',
    account_type: 'ACCOUNT_TYPE_REAL',
    is_active: account.is_active,
    is_locked: account.is_locked,
    created_at: account.created_at.toISOString(),
    ...balancesOf(account, decimals),
  };
}

export function toAccountBalanceReply(account: AccountRow, decimals: number, asOfSeq: number): AccountBalanceReply {
  return {
    account_number: account.account_number,
    ...balancesOf(account, decimals),
    currency: account.currency,
    last_transaction: account.last_transaction_at?.toISOString() ?? null,
    version: Number(account.version),
    as_of_seq: asOfSeq,
  };
}

/**
 * The sum of the wallets' balances in `target` minor units: each converted at its rate to the
 * target (`rates`: base currency → scaled rate) and rounded down on its own; a wallet whose
 * currency has no rate to the target counts nothing.
 */
export function totalIn(
  accounts: readonly AccountRow[],
  target: { code: string; decimals: number },
  rates: ReadonlyMap<string, bigint>,
  decimalsOf: DecimalsOf,
): bigint {
  let total = 0n;
  for (const account of accounts) {
    const balance = BigInt(account.balance);
    if (account.currency === target.code) total += balance;
    else {
      const rate = rates.get(account.currency);
      if (rate !== undefined) total += convertMinor(balance, decimalsOf(account.currency), target.decimals, rate);
    }
  }
  return total;
}

export function toOwnerSummaryReply(
  accounts: readonly AccountRow[],
  totalUsd: { minor: bigint; decimals: number },
  decimalsOf: DecimalsOf,
  asOfSeq: number,
): OwnerSummaryReply {
  return {
    account_balances: accounts.map((a) => {
      const { balance, available_balance } = balancesOf(a, decimalsOf(a.currency));
      return { account_number: a.account_number, currency: a.currency, balance, available_balance };
    }),
    total_balance_usd: toMajor(totalUsd.minor, totalUsd.decimals),
    total_accounts: accounts.length,
    as_of_seq: asOfSeq,
  };
}
