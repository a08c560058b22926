import { describe, expect, it } from 'vitest';
import { KnownStates } from './known-states.js';
import type { LockedAccount } from './ledger.types.js';

const account = (id: string, balance = 0n): LockedAccount => ({
  id,
  accountNumber: `ACC-${id}`,
  kind: 'user_wallet',
  currency: 'USD',
  ownerUserId: '1',
  ownerChannel: 'c',
  ownerState: 'active',
  balance,
  pendingDebit: 0n,
  pendingCredit: 0n,
  version: 1n,
  isActive: true,
  isLocked: false,
});

describe('KnownStates', () => {
  it('gives copies, and only when every account asked for is known', () => {
    const known = new KnownStates();
    const a = account('1', 5n);
    known.remember([a, account('2')]);
    a.balance = 99n; // what it remembers is a copy
    const copies = known.copiesOf(['1', '2'])!;
    expect(copies.get('1')!.balance).toBe(5n);
    copies.get('1')!.balance = 7n; // and what it gives too
    expect(known.copiesOf(['1'])!.get('1')!.balance).toBe(5n);
    expect(known.copiesOf(['1', '3'])).toBeUndefined();
    known.forget(['2']);
    expect(known.copiesOf(['2'])).toBeUndefined();
  });

  it('updates what changed in accounts it knows, and only those', () => {
    const known = new KnownStates();
    known.remember([account('1', 5n)]);
    known.update([
      { id: '1', balance: 9n, version: 2n, isLocked: true },
      { id: '2', balance: 1n },
    ]);
    expect(known.copiesOf(['1'])!.get('1')).toEqual({ ...account('1', 9n), version: 2n, isLocked: true });
    expect(known.copiesOf(['2'])).toBeUndefined();
  });

  it('forgets the least recently remembered past its capacity', () => {
    const known = new KnownStates(3);
    known.remember([account('1'), account('2'), account('3')]);
    known.remember([account('1', 1n)]); // 1 is recent again
    known.remember([account('4')]);
    expect(known.size).toBe(3);
    expect(known.copiesOf(['2'])).toBeUndefined();
    expect(known.copiesOf(['1', '3', '4'])).toBeDefined();
  });
});
