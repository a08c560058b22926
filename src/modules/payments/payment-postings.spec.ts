// The journals that complete payments balance, credit each part of a fee to the account that
// earns it with a fee record beside it, and leave out the parts that are zero.
import { describe, expect, it } from 'vitest';
import type { AccountRef, PostingOrder } from '../ledger/posting-order.js';
import { depositPosting, feeLines, holdReference, withdrawalPosting } from './payment-postings.js';
import type { DepositRow, WithdrawalRow } from './payments.types.js';

const deposit = (amount: bigint, fee: bigint) =>
  ({
    id: '7',
    request_ref: 'DEP-REQ-20250101-007',
    user_id: '42',
    partner_id: 'PTN-MPESA',
    currency: 'USD',
    amount: amount.toString(),
    fee: fee.toString(),
  }) as DepositRow;

const withdrawal = (amount: bigint, fee: bigint, commission: bigint, agentId: string | null = null) =>
  ({
    id: '9',
    request_ref: 'WDL-REQ-20250101-009',
    user_id: '42',
    partner_id: agentId ? null : 'PTN-MPESA',
    agent_id: agentId,
    currency: 'USD',
    amount: amount.toString(),
    fee: fee.toString(),
    agent_commission: commission.toString(),
  }) as WithdrawalRow;

/** The id of an account the posting names by id (a payment's are all). */
const idOf = (ref: AccountRef) => ('id' in ref ? ref.id : JSON.stringify(ref));
const sides = (request: PostingOrder) => ({
  debits: request.lines.filter((l) => l.direction === 'DR').reduce((sum, l) => sum + l.amount, 0n),
  credits: request.lines.filter((l) => l.direction === 'CR').reduce((sum, l) => sum + l.amount, 0n),
});
const moves = (request: PostingOrder) => request.lines.map((l) => [idOf(l.account), l.direction, l.amount]);

describe('depositPosting', () => {
  it('credits the wallet the amount less the fee and fee revenue the fee', () => {
    const posting = depositPosting(
      deposit(10_000n, 100n),
      { settlement: 'S', wallet: 'W', feeRevenue: 'F' },
      'SBX-1',
      9900n,
    );
    expect(moves(posting)).toEqual([
      ['S', 'DR', 10_000n],
      ['W', 'CR', 9900n],
      ['F', 'CR', 100n],
    ]);
    expect(sides(posting).debits).toBe(sides(posting).credits);
    expect(posting.fees).toEqual([
      { feeType: 'FEE_TYPE_PLATFORM', amount: 100n, currency: 'USD', account: { id: 'F' }, payer: { id: 'W' } },
    ]);
    expect(posting.metadata).toEqual({
      request_ref: 'DEP-REQ-20250101-007',
      partner_id: 'PTN-MPESA',
      partner_reference: 'SBX-1',
    });
    expect(posting.captures).toEqual([{ reference: holdReference('deposits', '7'), amount: 9900n }]);
  });

  it('has no fee line and no fee record without a fee', () => {
    const posting = depositPosting(deposit(500n, 0n), { settlement: 'S', wallet: 'W', feeRevenue: 'F' }, 'SBX-2', null);
    expect(moves(posting)).toEqual([
      ['S', 'DR', 500n],
      ['W', 'CR', 500n],
    ]);
    expect(posting.fees).toEqual([]);
    // A deposit opened before deposits held anything takes no hold.
    expect(posting.captures).toEqual([]);
  });
});

describe('withdrawalPosting', () => {
  it('takes amount + fee from the held wallet; the partner gets the amount, fee revenue the fee', () => {
    const posting = withdrawalPosting(withdrawal(5000n, 100n, 0n), { wallet: 'W', payee: 'P', feeRevenue: 'F' }, 5100n);
    expect(moves(posting)).toEqual([
      ['W', 'DR', 5100n],
      ['P', 'CR', 5000n],
      ['F', 'CR', 100n],
    ]);
    expect(sides(posting).debits).toBe(sides(posting).credits);
    expect(posting.captures).toEqual([{ reference: holdReference('withdrawals', '9'), amount: 5100n }]);
    expect(posting.fees?.map((f) => f.feeType)).toEqual(['FEE_TYPE_PLATFORM']);
  });

  it('pays an agent the amount and its commission; fee revenue keeps the rest of the fee', () => {
    const posting = withdrawalPosting(
      withdrawal(5000n, 100n, 75n, 'AGT-123'),
      { wallet: 'W', payee: 'A', feeRevenue: 'F' },
      5100n,
    );
    expect(moves(posting)).toEqual([
      ['W', 'DR', 5100n],
      ['A', 'CR', 5000n],
      ['F', 'CR', 25n],
      ['A', 'CR', 75n],
    ]);
    expect(sides(posting).debits).toBe(sides(posting).credits);
    expect(posting.fees).toEqual([
      { feeType: 'FEE_TYPE_PLATFORM', amount: 25n, currency: 'USD', account: { id: 'F' }, payer: { id: 'W' } },
      { feeType: 'FEE_TYPE_AGENT_COMMISSION', amount: 75n, currency: 'USD', account: { id: 'A' }, payer: { id: 'W' } },
    ]);
    expect(posting.description).toBe('Withdrawal WDL-REQ-20250101-009 to AGT-123');
  });
});

describe('feeLines', () => {
  it('leaves out the parts of zero', () => {
    const parts = [
      { feeType: 'FEE_TYPE_PLATFORM', amount: 0n, accountId: 'F', description: 'fee' },
      { feeType: 'FEE_TYPE_AGENT_COMMISSION', amount: 3n, accountId: 'A', description: 'commission' },
    ] as const;
    expect(feeLines('USD', 'W', parts)).toEqual({
      lines: [{ account: { id: 'A' }, direction: 'CR', amount: 3n, description: 'commission' }],
      fees: [
        { feeType: 'FEE_TYPE_AGENT_COMMISSION', amount: 3n, currency: 'USD', account: { id: 'A' }, payer: { id: 'W' } },
      ],
    });
  });
});
