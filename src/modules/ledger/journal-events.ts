// The events a journal announces to the owners of the user wallets it touches, in the order of
// its lines: `transfer_completed` (a transfer, to both sides) then `transaction_completed` with
// what moved on that wallet before fees (a debit less the fee its owner paid, a credit plus it),
// the fee its owner paid, and the balance the journal left.
import type { EntityManager } from 'typeorm';
import type { CurrencyConfig } from '../../core/config/business-config.js';
import type { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { toMajor } from '../../shared/money.js';
import { shortType, type PostedJournal, type PostingRequest } from './ledger.types.js';

export function announceJournal(
  publisher: RealtimePublisher,
  tx: EntityManager,
  currencies: ReadonlyMap<string, CurrencyConfig>,
  request: PostingRequest,
  posted: PostedJournal,
): void {
  const timestamp = Math.floor(posted.createdAt.getTime() / 1000);
  const wallets = request.lines.filter((line) => posted.accounts.get(line.accountId)?.kind === 'user_wallet');
  const feePaidBy = (accountId: string) =>
    (request.fees ?? []).filter((fee) => fee.payerAccountId === accountId).reduce((sum, fee) => sum + fee.amount, 0n);
  const transfer = request.type === 'TRANSACTION_TYPE_TRANSFER' ? transferOf(request, posted, currencies) : undefined;
  for (const line of wallets) {
    const account = posted.accounts.get(line.accountId)!;
    const { decimals, code } = currencies.get(account.currency)!;
    const fee = feePaidBy(account.id);
    if (transfer) publisher.publish(tx, account.ownerChannel!, 'transfer_completed', { ...transfer, timestamp });
    publisher.publish(tx, account.ownerChannel!, 'transaction_completed', {
      receipt_code: posted.receiptCode,
      transaction_id: Number(posted.journalId),
      transaction_type: shortType(request.type),
      amount: toMajor(line.direction === 'DR' ? line.amount - fee : line.amount + fee, decimals),
      currency: code,
      balance_after: toMajor(account.balance, decimals),
      fee: toMajor(fee, decimals),
      timestamp,
    });
  }
}

/** A transfer: from the wallet it debits to the wallet it credits, the amount credited, every fee. */
function transferOf(request: PostingRequest, posted: PostedJournal, currencies: ReadonlyMap<string, CurrencyConfig>) {
  const walletLine = (direction: 'DR' | 'CR') =>
    request.lines.find(
      (line) => line.direction === direction && posted.accounts.get(line.accountId)?.kind === 'user_wallet',
    )!;
  const [from, to] = [walletLine('DR'), walletLine('CR')];
  const account = posted.accounts.get(to.accountId)!;
  const { decimals, code } = currencies.get(account.currency)!;
  const fee = (request.fees ?? []).reduce((sum, f) => sum + f.amount, 0n);
  return {
    receipt_code: posted.receiptCode,
    transaction_id: Number(posted.journalId),
    amount: toMajor(to.amount, decimals),
    currency: code,
    from_account: posted.accounts.get(from.accountId)!.accountNumber,
    to_account: account.accountNumber,
    fee: toMajor(fee, decimals),
  };
}
