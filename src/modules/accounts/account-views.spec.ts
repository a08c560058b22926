import { describe, expect, it } from 'vitest';
import { parseRate } from '../../shared/fx.js';
import { balancesOf, toOwnerSummaryReply, totalIn, toWalletView } from './account-views.js';
import type { AccountRow } from './accounts.service.js';

const row = (currency: string, balance: string, pendingDebit = '0', pendingCredit = '0'): AccountRow => ({
  id: '7',
  account_number: `ACC-USER-${currency}-7`,
  kind: 'user_wallet',
  currency,
  owner_user_id: '1',
  balance,
  pending_debit: pendingDebit,
  pending_credit: pendingCredit,
  version: '3',
  is_active: true,
  is_locked: false,
  created_at: new Date('2026-01-02T03:04:05.000Z'),
  last_transaction_at: null,
});

const DECIMALS: Record<string, number> = { USD: 2, EUR: 2, BTC: 8, JPY: 0 };
const decimalsOf = (code: string) => DECIMALS[code];

describe('account views', () => {
  it('shows balances in major units, available being what no hold sets aside', () => {
    expect(balancesOf(row('USD', '12345', '2345', '100'), 2)).toEqual({
      balance: 123.45,
      available_balance: 100,
      pending_debit: 23.45,
      pending_credit: 1,
    });
  });

  it('keeps the wire order of an account: its fields, then its balances', () => {
    expect(Object.keys(toWalletView(row('BTC', '150000000'), 8))).toEqual([
      'id',
      'account_number',
      'currency',
      'purpose',
      'account_type',
      'is_active',
      'is_locked',
      'created_at',
      'balance',
      'available_balance',
      'pending_debit',
      'pending_credit',
    ]);
  });

  it('totals wallets in USD, each rounded down on its own; a currency without a rate counts nothing', () => {
    const rates = new Map([
      ['EUR', parseRate('1.09')],
      ['BTC', parseRate('60000')],
    ]);
    const accounts = [
      row('USD', '1000'), // 10.00
      row('EUR', '333'), // 3.33 × 1.09 = 3.6297 → 3.62
      row('BTC', '1'), // 0.00000001 × 60000 = 0.0006 → 0
      row('JPY', '5000'), // no rate
    ];
    const total = totalIn(accounts, { code: 'USD', decimals: 2 }, rates, decimalsOf);
    expect(total).toBe(1362n);
    expect(toOwnerSummaryReply(accounts, { minor: total, decimals: 2 }, decimalsOf, 9)).toEqual({
      account_balances: [
        { account_number: 'ACC-USER-USD-7', currency: 'USD', balance: 10, available_balance: 10 },
        { account_number: 'ACC-USER-EUR-7', currency: 'EUR', balance: 3.33, available_balance: 3.33 },
        { account_number: 'ACC-USER-BTC-7', currency: 'BTC', balance: 0.00000001, available_balance: 0.00000001 },
        { account_number: 'ACC-USER-JPY-7', currency: 'JPY', balance: 5000, available_balance: 5000 },
      ],
      total_balance_usd: 13.62,
      total_accounts: 4,
      as_of_seq: 9,
    });
  });
});
