// A posting as data: what a money operation asks the ledger for (PostingQueue.submit in a
// transaction of the queue's, PostingQueue.post in the caller's), before any wallet id need be
// known. It names its accounts by who owns them (or by id, when the caller holds it), says which
// rule applies to the recipient, which holds it takes, and carries its idempotency key; the queue
// resolves it into a PostingRequest inside the transaction that writes it, whether that
// transaction holds one posting or sixty.
import type { KeyClaim } from '../idempotency/idempotency.service.js';
import type { Direction, PostingRequest, TransactionType } from './ledger.types.js';

/**
 * An account of a posting: a user's wallet in a currency (a credit opens it on first use; a debit
 * of a wallet that does not exist is ACCOUNT_NOT_FOUND naming `field`), a split system account
 * (fee revenue, FX liquidity), of which each transaction running at once takes its own shard, or
 * an account the caller knows by id (a partner's settlement account, a wallet holding a hold).
 */
export type AccountRef = WalletRef | { split: 'fee_revenue' | 'fx_liquidity'; currency: string } | { id: string };

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
  initiatedBy?: string | null;
  metadata?: Record<string, unknown>;
  /** Holds it takes from (all or part), as PostingRequest.captures. */
  captures?: PostingRequest['captures'];
  /** Whether the ledger announces the journal (journal-events.ts); it does unless this says no. */
  announce?: boolean;
  /** The user who must exist and be active (a recipient): else ACCOUNT_NOT_FOUND with `message`, naming `field`. */
  activeUser?: { userId: string; field: string; message: string };
  idempotency?: KeyClaim;
  /**
   * Whether the request behind it is admitted, when that was still being decided as it was
   * submitted (ws-requests.ts, @StartsWhileCounted()): the posting commits only once this resolves
   * true; false rolls it back (NotAdmitted).
   */
  admitted?: Promise<boolean>;
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
