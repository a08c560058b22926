// A ledger batch (LedgerBatch.post) refuses, with a clear error and nothing changed, what the database would
// only refuse at commit (or not at all): a journal that does not balance in each currency, and a
// capture of a hold on an account the posting does not move in the hold's direction. Holds in
// both directions move the pending amount of their own direction.
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

describe('LedgerBatch.post', () => {
  it('posts a journal that balances in its currency', () => {
    const locked = accounts();
    const applied = ledger.batch(locked).post(request([line('1', 'DR', 100n), line('2', 'CR', 100n)]));
    expect(applied.entries.map((e) => e.balanceAfter)).toEqual([900n, 100n]);
    expect(locked.get('1')!.balance).toBe(900n);
  });

  it('keeps what it applied, in order, for its write; a refused posting leaves no change behind', () => {
    const batch = ledger.batch(accounts());
    const first = batch.post(request([line('1', 'DR', 100n), line('2', 'CR', 100n)]));
    expect(() => batch.post(request([line('1', 'DR', 100n), line('2', 'CR', 99n)]))).toThrow(/does not balance/);
    const hold = batch.hold({ accountId: '2', amount: 40n, reference: 'h' });
    expect(() => batch.hold({ accountId: '2', amount: 70n, reference: 'h' })).toThrow(/exists already/);
    const released = batch.release('h');
    expect(batch.release('h')).toBeUndefined();
    expect(batch.changes).toEqual([first, hold, released]);
    expect(batch.accounts.get('2')).toMatchObject({ balance: 100n, pendingDebit: 0n, version: 3n });
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
    expect(() => ledger.batch(locked).post(request(lines))).toThrow(`the journal does not balance in ${message}`);
    expect(locked).toEqual(accounts());
  });

  const heldOn = (accountId: string, direction: 'DR' | 'CR'): HoldState => ({
    reference: 'hold-1',
    accountId,
    currency: 'USD',
    direction,
    amount: 50n,
    remaining: 50n,
    status: 'held',
    placedVersion: 1n,
  });

  it.each([
    ['DR', '2', 'debit'],
    ['CR', '1', 'credit'],
  ] as const)(
    'refuses a capture of a %s hold on an account the posting does not move that way, changing nothing',
    (direction, accountId, verb) => {
      const locked = accounts();
      const hold = heldOn(accountId, direction);
      const holds = new Map([[hold.reference, hold]]);
      const capture = request([line('1', 'DR', 50n), line('2', 'CR', 50n)], {
        captures: [{ reference: 'hold-1', amount: 50n }],
      });
      expect(() => ledger.batch(locked, holds).post(capture)).toThrow(
        `hold hold-1 is a ${direction} hold on account ${accountId}, which the posting does not ${verb}`,
      );
      expect(hold).toMatchObject({ remaining: 50n, status: 'held' });
      expect(locked).toEqual(accounts());
    },
  );

  it('takes a CR hold with the credit it announced: pending_credit goes down as the balance goes up', () => {
    const locked = accounts();
    locked.get('2')!.pendingCredit = 50n;
    const hold = heldOn('2', 'CR');
    const applied = ledger
      .batch(locked, new Map([[hold.reference, hold]]))
      .post(
        request([line('1', 'DR', 50n), line('2', 'CR', 50n)], { captures: [{ reference: 'hold-1', amount: 50n }] }),
      );
    expect(locked.get('2')).toMatchObject({ balance: 50n, pendingCredit: 0n, pendingDebit: 0n, version: 1n });
    expect(hold).toMatchObject({ remaining: 0n, status: 'captured', capturedBy: applied });
  });
});

describe('LedgerBatch.hold and release', () => {
  it('a CR hold announces a credit: pending_credit, not pending_debit, and nothing to afford', () => {
    const locked = accounts();
    const holds = new Map<string, HoldState>();
    const batch = ledger.batch(locked, holds);
    batch.hold({ accountId: '2', amount: 70n, reference: 'in-1', direction: 'CR' });
    expect(locked.get('2')).toMatchObject({ balance: 0n, pendingCredit: 70n, pendingDebit: 0n, version: 1n });
    batch.release('in-1');
    expect(locked.get('2')).toMatchObject({ balance: 0n, pendingCredit: 0n, pendingDebit: 0n, version: 2n });
    expect(holds.get('in-1')).toMatchObject({ status: 'released', direction: 'CR', releasedVersion: 2n });
  });
});
