// The ledger's work in one transaction, and the one way to post: the accounts and holds it has
// locked, in memory as the changes applied so far left them, and those changes in order, which
// write() puts in the database in one statement (ledger-writer.ts) and announces. Every posting,
// hold placement and release goes through a batch: the posting queue's (posting-queue.ts: every
// money operation, alone or with others, in the queue's transaction or the caller's) and the
// market's (order-matching.ts: one per book transaction, as it places, takes and releases holds
// while it matches). Each change is checked before it is applied: a refusal throws and leaves the
// batch as it was, so changes can be applied one after another and each stands or falls alone.
import type { EntityManager } from 'typeorm';
import type { CurrencyConfig } from '../../core/config/business-config.js';
import { checkAvailable, checkBalanced, checkUsable } from './ledger-rules.js';
import type {
  AppliedPosting,
  Direction,
  HoldChange,
  HoldState,
  LedgerChange,
  LockedAccount,
  PostedEntry,
  PostedJournal,
  PostingLine,
  PostingRequest,
} from './ledger.types.js';

/** What a batch needs of LedgerService: the locks, and the write (which announces). */
export interface LedgerStore {
  lock(tx: EntityManager, accountIds: string[]): Promise<Map<string, LockedAccount>>;
  lockHolds(tx: EntityManager, references: readonly string[]): Promise<Map<string, HoldState>>;
  sendWrite(
    tx: EntityManager,
    changes: readonly LedgerChange[],
  ): Promise<{ posted: PostedJournal[]; written: Promise<unknown> }>;
}

/** A hold to place (LedgerBatch.hold). */
export interface HoldPlacement {
  accountId: string;
  amount: bigint;
  reference: string;
  /** DR (the default): funds set aside to leave; CR: funds announced to arrive. */
  direction?: Direction;
  /** Its balance event says `trading: true` (an order's hold). */
  trading?: boolean;
  /** The field a refusal names. */
  field?: string;
}

/** Moves the pending amount of a hold's direction (pending_debit for DR, pending_credit for CR) by `by`. */
function movePending(account: LockedAccount, direction: Direction, by: bigint): void {
  if (direction === 'DR') account.pendingDebit += by;
  else account.pendingCredit += by;
}

export class LedgerBatch {
  /** What was applied, in order: what write() writes. */
  readonly changes: LedgerChange[] = [];

  /**
   * `accounts` and `holds`: what the batch starts from, locked in its transaction or (for a batch
   * planned before its transaction, posting-queue.ts) as the last commit left them.
   */
  constructor(
    private readonly store: LedgerStore,
    private readonly currencies: ReadonlyMap<string, CurrencyConfig>,
    readonly accounts: Map<string, LockedAccount> = new Map(),
    readonly holds: Map<string, HoldState> = new Map(),
  ) {}

  /**
   * Locks the accounts of `ids` the batch has not locked yet, in id order (so two transactions
   * never wait on each other in a cycle), and adds them.
   */
  async lock(tx: EntityManager, ids: readonly string[]): Promise<void> {
    const missing = ids.filter((id) => !this.accounts.has(id));
    if (missing.length === 0) return;
    for (const [id, account] of await this.store.lock(tx, missing)) this.accounts.set(id, account);
  }

  /** Locks the holds of `references` the batch does not have yet (each is resolved once), and adds them. */
  async lockHolds(tx: EntityManager, references: readonly string[]): Promise<void> {
    const missing = references.filter((reference) => !this.holds.has(reference));
    if (missing.length === 0) return;
    for (const [reference, hold] of await this.store.lockHolds(tx, missing)) this.holds.set(reference, hold);
  }

  /**
   * Applies a posting to the locked accounts (and the holds it captures): checks it balances, that
   * every account may take it and that no user wallet ends below zero available, then moves the
   * accounts and holds to their new state.
   */
  post(request: PostingRequest): AppliedPosting {
    const { accounts, holds } = this;
    const captured = (request.captures ?? []).map((capture) => {
      const hold = holds.get(capture.reference);
      if (!hold || hold.status !== 'held' || capture.amount <= 0n || capture.amount > hold.remaining) {
        throw new Error(`cannot capture ${capture.amount} of hold ${capture.reference}: not held, or not that much`);
      }
      if (!request.lines.some((line) => line.accountId === hold.accountId && line.direction === hold.direction)) {
        throw new Error(
          `hold ${capture.reference} is a ${hold.direction} hold on account ${hold.accountId}, which the posting does not ${hold.direction === 'DR' ? 'debit' : 'credit'}`,
        );
      }
      return { hold, amount: capture.amount };
    });
    const ids = [...new Set(request.lines.map((l) => l.accountId))];
    const next = new Map<string, LockedAccount>();
    for (const id of ids) {
      const account = accounts.get(id);
      if (!account) throw new Error(`account ${id} is not locked`);
      next.set(id, { ...account });
    }
    checkBalanced(request.lines, next);
    const nextHolds = new Map<HoldState, HoldState>();
    for (const { hold, amount } of captured) {
      const copy = nextHolds.get(hold) ?? { ...hold };
      if (amount > copy.remaining) throw new Error(`cannot capture ${amount} of hold ${hold.reference}: not that much`);
      copy.remaining -= amount;
      copy.status = copy.remaining === 0n ? 'captured' : 'held';
      nextHolds.set(hold, copy);
      movePending(next.get(hold.accountId)!, hold.direction, -amount);
    }
    const entries = request.lines.map((line) => applyLine(next.get(line.accountId)!, line, request));
    for (const id of ids) checkAvailable(next.get(id)!, accounts.get(id)!, this.currencies);
    for (const [id, account] of next) Object.assign(accounts.get(id)!, account);
    const applied: AppliedPosting = { request, entries, accounts: next, holds: [...nextHolds.keys()] };
    for (const [hold, copy] of nextHolds) {
      Object.assign(hold, copy);
      if (hold.status === 'captured') hold.capturedBy = applied;
    }
    this.changes.push(applied);
    return applied;
  }

  /**
   * Places a hold on a locked account under a unique reference. A DR hold sets `amount` aside on
   * a user wallet (pending_debit), refused like a posting when the wallet cannot afford it; a CR
   * hold announces `amount` to arrive (pending_credit). Either is refused, naming `field`, on an
   * account that could not take the posting that will capture it (inactive, or a locked wallet).
   */
  hold(placement: HoldPlacement): HoldChange {
    const direction = placement.direction ?? 'DR';
    if (placement.amount <= 0n) throw new Error('a hold needs a positive amount');
    const account = this.accounts.get(placement.accountId);
    if (!account) throw new Error(`account ${placement.accountId} is not locked`);
    if (this.holds.has(placement.reference)) throw new Error(`hold ${placement.reference} exists already`);
    const before = { ...account };
    checkUsable(account, false, placement.field);
    const after = { ...account, version: account.version + 1n };
    movePending(after, direction, placement.amount);
    checkAvailable(after, before, this.currencies);
    Object.assign(account, after);
    const hold: HoldState = {
      reference: placement.reference,
      accountId: account.id,
      currency: account.currency,
      direction,
      amount: placement.amount,
      remaining: placement.amount,
      status: 'held',
      placedVersion: account.version,
    };
    this.holds.set(hold.reference, hold);
    const change: HoldChange = { kind: 'hold', hold, account: { ...account }, trading: placement.trading ?? false };
    this.changes.push(change);
    return change;
  }

  /** Gives back what a held hold still sets aside; undefined (and nothing changed) when it is not held. */
  release(reference: string, trading = false): HoldChange | undefined {
    const hold = this.holds.get(reference);
    if (!hold || hold.status !== 'held') return undefined;
    const account = this.accounts.get(hold.accountId);
    if (!account) throw new Error(`account ${hold.accountId} is not locked`);
    movePending(account, hold.direction, -hold.remaining);
    account.version += 1n;
    hold.status = 'released';
    hold.releasedVersion = account.version;
    const change: HoldChange = { kind: 'release', hold, account: { ...account }, trading };
    this.changes.push(change);
    return change;
  }

  /**
   * Writes the changes in one statement and announces every balance each of them left, in order,
   * to the wallets' owners, and the journals that ask for it (journal-events.ts); the journals,
   * one per posting, once the write is done.
   */
  async write(tx: EntityManager): Promise<PostedJournal[]> {
    const { posted, written } = await this.sendWrite(tx);
    await written;
    return posted;
  }

  /**
   * write() without waiting for PostgreSQL: resolves once the statement is sent, with the journals
   * as they will be and the write's answer, which nothing need await: if it fails, so does the
   * COMMIT (sql.ts send()).
   */
  sendWrite(tx: EntityManager): Promise<{ posted: PostedJournal[]; written: Promise<unknown> }> {
    return this.store.sendWrite(tx, this.changes);
  }
}

function applyLine(account: LockedAccount, line: PostingLine, request: PostingRequest): PostedEntry {
  checkUsable(account, request.type === 'TRANSACTION_TYPE_ADJUSTMENT');
  account.balance += line.direction === 'CR' ? line.amount : -line.amount;
  account.version += 1n;
  return {
    accountId: account.id,
    accountNumber: account.accountNumber,
    currency: account.currency,
    direction: line.direction,
    amount: line.amount,
    balanceAfter: account.balance,
    version: account.version,
  };
}
