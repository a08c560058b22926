// The vocabulary of the ledger.
import type { AccountKind } from '../accounts/accounts.types.js';

export const TRANSACTION_TYPES = [
  'TRANSACTION_TYPE_TRANSFER',
  'TRANSACTION_TYPE_CONVERSION',
  'TRANSACTION_TYPE_DEPOSIT',
  'TRANSACTION_TYPE_WITHDRAWAL',
  'TRANSACTION_TYPE_ADJUSTMENT',
  'TRANSACTION_TYPE_TRADE',
] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

/** The short name events use (`transaction_type: "transfer"`). */
export const shortType = (type: TransactionType): string => type.replace('TRANSACTION_TYPE_', '').toLowerCase();

export type Direction = 'DR' | 'CR';

/** One side of a posting: `amount` minor units debited from or credited to an account. */
export interface PostingLine {
  accountId: string;
  direction: Direction;
  amount: bigint;
  description: string;
}

export interface FeeLine {
  feeType: string;
  amount: bigint;
  currency: string;
  accountId: string;
  /** The account that pays it, when it is a user's wallet whose `transaction_completed` shows it. */
  payerAccountId?: string;
}

export interface PostingRequest {
  type: TransactionType;
  description: string;
  lines: PostingLine[];
  fees?: FeeLine[];
  initiatedBy?: string | null;
  metadata?: Record<string, unknown>;
  /**
   * Holds this journal takes, all or a part (an order's fills take its hold bit by bit): the
   * pending amount of the hold's direction goes down by `amount` in the same change, and the
   * posting must move the hold's account in that direction (a DR hold is taken by a debit, a CR
   * hold by a credit). The holds must be among those the posting is applied with
   * (`LedgerBatch.lockHolds`).
   */
  captures?: { reference: string; amount: bigint }[];
  /** Balance events of this journal say `trading: true` (an exchange fill). */
  trading?: boolean;
  /**
   * The ledger announces the journal itself to the user wallets it touches (journal-events.ts):
   * `transaction_completed`, and `transfer_completed` for a transfer.
   */
  announce?: boolean;
}

export type HoldStatus = 'held' | 'captured' | 'released';

/** A hold as the ledger sees it inside a transaction: loaded and locked, or placed in it. */
export interface HoldState {
  /** Its row, when it existed before this transaction. */
  id?: string;
  reference: string;
  accountId: string;
  currency: string;
  /**
   * DR: funds set aside to leave the account (pending_debit, which counts against the available
   * balance); CR: funds announced to arrive (pending_credit, which does not).
   */
  direction: Direction;
  amount: bigint;
  /** What it still sets aside; its account's pending amount in its direction is the sum over its held holds. */
  remaining: bigint;
  status: HoldStatus;
  placedVersion: bigint;
  releasedVersion?: bigint;
  /** The posting (its index among those written together) that took the last of it. */
  capturedBy?: AppliedPosting;
}

/** A hold placed or released in memory, to be written with the postings (LedgerBatch.write). */
export interface HoldChange {
  kind: 'hold' | 'release';
  hold: HoldState;
  /** The account as the change left it. */
  account: LockedAccount;
  trading: boolean;
}

/** An account as the posting engine sees it, locked for the rest of the transaction. */
export interface LockedAccount {
  id: string;
  accountNumber: string;
  kind: AccountKind;
  currency: string;
  ownerUserId: string | null;
  ownerChannel: string | null;
  /** The owner's state (`active`, ...) for user wallets. */
  ownerState: string | null;
  balance: bigint;
  pendingDebit: bigint;
  pendingCredit: bigint;
  version: bigint;
  isActive: boolean;
  isLocked: boolean;
}

export interface PostedEntry {
  id?: string;
  accountId: string;
  accountNumber: string;
  currency: string;
  direction: Direction;
  amount: bigint;
  balanceAfter: bigint;
  version: bigint;
}

/** A posting applied in memory (accounts as it leaves them), not yet written. */
export interface AppliedPosting {
  request: PostingRequest;
  entries: PostedEntry[];
  accounts: Map<string, LockedAccount>;
  /** The holds it took from, as it left them. */
  holds: HoldState[];
}

/** What LedgerBatch.write writes, in order: postings and hold changes. */
export type LedgerChange = AppliedPosting | HoldChange;

export interface PostedJournal {
  journalId: string;
  receiptCode: string;
  createdAt: Date;
  entries: PostedEntry[];
  /** Every account the journal touched, as the posting left it (later postings of a batch may move it on). */
  accounts: Map<string, LockedAccount>;
}
