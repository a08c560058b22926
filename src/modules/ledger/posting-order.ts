// A posting as data: what a money operation asks the ledger for (PostingQueue.submit), before
// any account id is known. It names its accounts by who owns them, says which rule applies to the
// recipient, and carries its idempotency key; the queue resolves it into a PostingRequest inside
// the transaction that writes it, whether that transaction holds one posting or sixty.
import type { KeyClaim } from '../idempotency/idempotency.service.js';
import type { Direction, TransactionType } from './ledger.types.js';

/**
 * An account of a posting: a user's wallet in a currency (a credit opens it on first use; a debit
 * of a wallet that does not exist is ACCOUNT_NOT_FOUND naming `field`), or a split system account
 * (fee revenue, FX liquidity), of which each transaction running at once takes its own shard.
 */
export type AccountRef = WalletRef | { split: 'fee_revenue' | 'fx_liquidity'; currency: string };

export interface WalletRef {
  wallet: string;
  currency: string;
  field: string;
}

export interface OrderLine {
  account: AccountRef;
  direction: Direction;
  amount: bigint;
  description: string;
}

export interface OrderFee {
  feeType: string;
  amount: bigint;
  currency: string;
  /** Where the fee goes. */
  account: AccountRef;
  /** Who pays it (its `transaction_completed` shows the fee). */
  payer: AccountRef;
}

export interface PostingOrder {
  type: TransactionType;
  description: string;
  lines: OrderLine[];
  fees?: OrderFee[];
  initiatedBy: string;
  metadata?: Record<string, unknown>;
  /** The user who must exist and be active (a recipient): else ACCOUNT_NOT_FOUND with `message`, naming `field`. */
  activeUser?: { userId: string; field: string; message: string };
  idempotency?: KeyClaim;
}

/** What a posting answers, and what its idempotency key replays. */
export interface Receipt {
  receipt_code: string;
  journal_id: number;
  created_at: string;
  /** The journal's metadata, as the posting wrote it. */
  metadata: Record<string, unknown>;
}

export const walletKey = (userId: string, currency: string) => `${userId}/${currency}`;

/** The wallets an order names, once each. */
export function walletsOf(order: PostingOrder): { userId: string; currency: string }[] {
  const seen = new Map<string, { userId: string; currency: string }>();
  for (const { account } of [...order.lines, ...(order.fees ?? []).map((fee) => ({ account: fee.payer }))]) {
    if ('wallet' in account) {
      seen.set(walletKey(account.wallet, account.currency), { userId: account.wallet, currency: account.currency });
    }
  }
  return [...seen.values()];
}
