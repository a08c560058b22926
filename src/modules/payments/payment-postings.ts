// The journals that complete a payment, said as data for the posting queue (PostingQueue.post, in
// the payment's transaction; accounts by id), and their fee lines, built once for both kinds: each
// part of a fee is a credit to the account that earns it and a fee record of the journal; a part
// of zero is neither. The payment's own events announce it (payment-events.ts), not the ledger.
import type { OrderFee, OrderLine, PostingOrder } from '../ledger/posting-order.js';
import type { DepositRow, PaymentTable, WithdrawalRow } from './payments.types.js';

/**
 * The ledger's reference of the hold a payment places on its owner's wallet until it ends: a
 * withdrawal's sets its amount and fee aside (DR, pending_debit), a deposit's announces what it
 * will credit (CR, pending_credit).
 */
export const holdReference = (table: PaymentTable, id: string) =>
  `${table === 'deposits' ? 'deposit' : 'withdrawal'}:${id}`;

export interface FeePart {
  feeType: 'FEE_TYPE_PLATFORM' | 'FEE_TYPE_AGENT_COMMISSION';
  amount: bigint;
  /** The account that earns it. */
  accountId: string;
  description: string;
}

/** A fee paid by the wallet `payerAccountId`, in parts: their credit lines and fee records. */
export function feeLines(
  currency: string,
  payerAccountId: string,
  parts: readonly FeePart[],
): { lines: OrderLine[]; fees: OrderFee[] } {
  const earned = parts.filter((part) => part.amount > 0n);
  return {
    lines: earned.map((part) => ({
      account: { id: part.accountId },
      direction: 'CR',
      amount: part.amount,
      description: part.description,
    })),
    fees: earned.map((part) => ({
      feeType: part.feeType,
      amount: part.amount,
      currency,
      account: { id: part.accountId },
      payer: { id: payerAccountId },
    })),
  };
}

/**
 * DR the partner's settlement account the amount; CR the user's wallet the amount less the fee,
 * taking the deposit's hold (`held`: what it announced, none for a deposit opened before deposits
 * held); CR fee revenue the fee.
 */
export function depositPosting(
  deposit: DepositRow,
  accounts: { settlement: string; wallet: string; feeRevenue: string },
  partnerReference: string | null,
  held: bigint | null,
): PostingOrder {
  const amount = BigInt(deposit.amount);
  const fee = BigInt(deposit.fee);
  const ref = deposit.request_ref;
  const fees = feeLines(deposit.currency, accounts.wallet, [
    { feeType: 'FEE_TYPE_PLATFORM', amount: fee, accountId: accounts.feeRevenue, description: 'Deposit fee' },
  ]);
  return {
    type: 'TRANSACTION_TYPE_DEPOSIT',
    description: `Deposit ${ref} through ${deposit.partner_id}`,
    lines: [
      { account: { id: accounts.settlement }, direction: 'DR', amount, description: `Deposit ${ref}` },
      { account: { id: accounts.wallet }, direction: 'CR', amount: amount - fee, description: `Deposit ${ref}` },
      ...fees.lines,
    ],
    fees: fees.fees,
    initiatedBy: deposit.user_id,
    metadata: { request_ref: ref, partner_id: deposit.partner_id, partner_reference: partnerReference },
    captures: held === null ? [] : [{ reference: holdReference('deposits', deposit.id), amount: held }],
    announce: false,
  };
}

/**
 * Takes the withdrawal's hold: DR the user's wallet the amount and the fee; CR the payee (the
 * partner's settlement account, or the agent) the amount; CR fee revenue the fee less the agent's
 * commission; CR the agent its commission.
 */
export function withdrawalPosting(
  withdrawal: WithdrawalRow,
  accounts: { wallet: string; payee: string; feeRevenue: string },
  held: bigint,
): PostingOrder {
  const amount = BigInt(withdrawal.amount);
  const fee = BigInt(withdrawal.fee);
  const commission = BigInt(withdrawal.agent_commission);
  const ref = withdrawal.request_ref;
  const fees = feeLines(withdrawal.currency, accounts.wallet, [
    {
      feeType: 'FEE_TYPE_PLATFORM',
      amount: fee - commission,
      accountId: accounts.feeRevenue,
      description: 'Withdrawal fee',
    },
    {
      feeType: 'FEE_TYPE_AGENT_COMMISSION',
      amount: commission,
      accountId: accounts.payee,
      description: 'Agent commission',
    },
  ]);
  return {
    type: 'TRANSACTION_TYPE_WITHDRAWAL',
    description: `Withdrawal ${ref} to ${withdrawal.agent_id ?? withdrawal.partner_id}`,
    lines: [
      { account: { id: accounts.wallet }, direction: 'DR', amount: amount + fee, description: `Withdrawal ${ref}` },
      { account: { id: accounts.payee }, direction: 'CR', amount, description: `Withdrawal ${ref}` },
      ...fees.lines,
    ],
    fees: fees.fees,
    initiatedBy: withdrawal.user_id,
    metadata: { request_ref: ref, partner_id: withdrawal.partner_id, agent_id: withdrawal.agent_id },
    captures: [{ reference: holdReference('withdrawals', withdrawal.id), amount: held }],
    announce: false,
  };
}
