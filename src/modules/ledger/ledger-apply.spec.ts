// LedgerService.apply refuses, with a clear error and nothing changed, what the database would
// only refuse at commit (or not at all): a journal that does not balance in each currency, and a
// capture of a hold on an account the posting does not debit.
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../core/config/app-config.js';
import type { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import type { JournalIds } from './journal-ids.js';
import { LedgerService } from './ledger.service.js';
import type { HoldState, LockedAccount, PostingLine, PostingRequest } from './ledger.types.js';

const ledger = new LedgerService(
  {} as RealtimePublisher,
  { business: { currencies: new Map() } } as unknown as AppConfig,
  {} as JournalIds,
);

function account(id: string, currency: string, balance = 0n): LockedAccount {
  return {
    id,
    accountNumber: `ACC-${id}`,
    kind: 'fee_revenue',
    currency,
    ownerUserId: null,
    ownerChannel: null,
    ownerState: null,
    balance,
    pendingDebit: 0n,
    pendingCredit: 0n,
    version: 0n,
    isActive: true,
    isLocked: false,
  };
}

const accounts = () =>
  new Map([
    ['1', account('1', 'USD', 1000n)],
    ['2', account('2', 'USD')],
    ['3', account('3', 'EUR')],
  ]);

const line = (accountId: string, direction: 'DR' | 'CR', amount: bigint): PostingLine => ({
  accountId,
  direction,
  amount,
  description: 'test',
});

const request = (lines: PostingLine[], extra: Partial<PostingRequest> = {}): PostingRequest => ({
  type: 'TRANSACTION_TYPE_ADJUSTMENT',
  description: 'test',
  lines,
  ...extra,
});

describe('LedgerService.apply', () => {
  it('posts a journal that balances in its currency', () => {
    const locked = accounts();
    const applied = ledger.apply(locked, request([line('1', 'DR', 100n), line('2', 'CR', 100n)]));
    expect(applied.entries.map((e) => e.balanceAfter)).toEqual([900n, 100n]);
    expect(locked.get('1')!.balance).toBe(900n);
  });

  it.each([
    ['more credits than debits', [line('1', 'DR', 100n), line('2', 'CR', 101n)], 'USD: credits - debits = 1'],
    [
      'sums that match across currencies',
      [line('1', 'DR', 100n), line('3', 'CR', 100n)],
      'USD: credits - debits = -100',
    ],
  ])('refuses %s, changing nothing', (_name, lines, message) => {
    const locked = accounts();
    expect(() => ledger.apply(locked, request(lines))).toThrow(`the journal does not balance in ${message}`);
    expect(locked).toEqual(accounts());
  });

  it('refuses a capture of a hold on an account the posting does not debit, changing nothing', () => {
    const locked = accounts();
    const hold: HoldState = {
      reference: 'hold-1',
      accountId: '2',
      currency: 'USD',
      amount: 50n,
      remaining: 50n,
      status: 'held',
      placedVersion: 1n,
    };
    const holds = new Map([[hold.reference, hold]]);
    const capture = request([line('1', 'DR', 50n), line('2', 'CR', 50n)], {
      captures: [{ reference: 'hold-1', amount: 50n }],
    });
    expect(() => ledger.apply(locked, capture, holds)).toThrow(
      'hold hold-1 is on account 2, which the posting does not debit',
    );
    expect(hold).toMatchObject({ remaining: 50n, status: 'held' });
    expect(locked).toEqual(accounts());
  });
});
