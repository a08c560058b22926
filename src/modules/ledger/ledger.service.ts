// The posting engine: the only code that changes balances. Within the caller's transaction it
// locks every touched account in id order, applies postings and hold changes in memory (user
// wallets never go below zero available), and writes the journals, their entries and fees, the
// holds and the new balances in one statement (ledger-writer.ts); then announces the new
// balances. Money operations post through the posting queue (posting-queue.ts: submit, or post in
// their own transaction), which uses these steps; the market's matching uses them directly, as it
// places, takes and releases holds while it matches. Holds set funds aside to leave an account
// (DR: pending_debit, a withdrawal or an order) or announce funds to arrive (CR: pending_credit,
// a deposit) until they are captured into journals, all at once or in parts, or released.
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { pgArray } from '../../core/database/pg-array.js';
import { prepared, sql } from '../../core/database/sql.js';
import { beganAt } from '../../core/database/transactions.js';
import { lockExpected } from './expected-lock.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { AppConfig } from '../../core/config/app-config.js';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { toMajor } from '../../shared/money.js';
import './ledger.events.js';
import { announceJournal } from './journal-events.js';
import { checkAvailable, checkBalanced, checkUsable } from './ledger-rules.js';
import { JournalIds } from './journal-ids.js';
import { receiptCodeOf, writeLedgerChanges } from './ledger-writer.js';
import type { AccountKind } from '../accounts/accounts.types.js';
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

const LOCK_ACCOUNTS = prepared(
  'ledger_lock',
  `SELECT a.id, a.account_number, a.kind, a.currency, a.owner_user_id, u.channel AS owner_channel, u.state AS owner_state,
              a.balance, a.pending_debit, a.pending_credit, a.version, a.is_active, a.is_locked
         FROM accounts a LEFT JOIN users u ON u.id = a.owner_user_id
        WHERE a.id = ANY($1::bigint[])
        ORDER BY a.id
        FOR UPDATE OF a`,
);

interface AccountRow {
  id: string;
  account_number: string;
  kind: AccountKind;
  currency: string;
  owner_user_id: string | null;
  owner_channel: string | null;
  owner_state: string | null;
  balance: string;
  pending_debit: string;
  pending_credit: string;
  version: string;
  is_active: boolean;
  is_locked: boolean;
}

const toLocked = (row: AccountRow): LockedAccount => ({
  id: String(row.id),
  accountNumber: row.account_number,
  kind: row.kind,
  currency: row.currency,
  ownerUserId: row.owner_user_id === null ? null : String(row.owner_user_id),
  ownerChannel: row.owner_channel,
  ownerState: row.owner_state,
  balance: BigInt(row.balance),
  pendingDebit: BigInt(row.pending_debit),
  pendingCredit: BigInt(row.pending_credit),
  version: BigInt(row.version),
  isActive: row.is_active,
  isLocked: row.is_locked,
});

const NO_HOLDS: ReadonlyMap<string, HoldState> = new Map();

/** Moves the pending amount of a hold's direction (pending_debit for DR, pending_credit for CR) by `by`. */
function movePending(account: LockedAccount, direction: Direction, by: bigint): void {
  if (direction === 'DR') account.pendingDebit += by;
  else account.pendingCredit += by;
}

@Injectable()
export class LedgerService {
  constructor(
    private readonly publisher: RealtimePublisher,
    private readonly config: AppConfig,
    private readonly journalIds: JournalIds,
  ) {}

  /**
   * Locks accounts in id order (so two postings never wait on each other in a cycle). The owners'
   * channel and state come in the same statement (the one read of users outside UsersService in
   * the ledger): a posting's hot path, and the recipient rule needs them as of the lock.
   */
  async lock(tx: EntityManager, accountIds: string[]): Promise<Map<string, LockedAccount>> {
    const ids = [...new Set(accountIds)];
    const { rows } = await sql<AccountRow>(tx, LOCK_ACCOUNTS, [pgArray(ids)]);
    if (rows.length !== ids.length) throw new DomainError('ACCOUNT_NOT_FOUND', 'account not found');
    return new Map(rows.map((row) => [String(row.id), toLocked(row)]));
  }

  /**
   * lock() for accounts whose state the caller knows (as a commit left them): sent at once, not
   * awaited (sql.ts send()). Takes the same locks in the same order; if any account is not exactly
   * as given, the statement fails (expected-lock.ts movedAccountsOf tells how they are), and so does
   * the transaction.
   */
  lockExpected(tx: EntityManager, accounts: readonly LockedAccount[]): Promise<unknown> {
    return lockExpected(tx, accounts);
  }

  /**
   * Applies a posting to locked accounts (and the holds it captures) in memory: checks it
   * balances, that every account may take it and that no user wallet ends below zero available,
   * then moves the accounts and holds to their new state. A refusal throws and leaves them as
   * they were, so postings can be applied one after another and each stands or falls alone.
   */
  apply(
    accounts: Map<string, LockedAccount>,
    request: PostingRequest,
    holds: ReadonlyMap<string, HoldState> = NO_HOLDS,
  ): AppliedPosting {
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
    const entries = request.lines.map((line) => this.applyLine(next.get(line.accountId)!, line, request));
    for (const id of ids) checkAvailable(next.get(id)!, accounts.get(id)!, this.config.business.currencies);
    for (const [id, account] of next) Object.assign(accounts.get(id)!, account);
    const applied: AppliedPosting = { request, entries, accounts: next, holds: [...nextHolds.keys()] };
    for (const [hold, copy] of nextHolds) {
      Object.assign(hold, copy);
      if (hold.status === 'captured') hold.capturedBy = applied;
    }
    return applied;
  }

  /**
   * Places a hold on a locked account in memory, under a unique reference; written by write(). A
   * DR hold (the default) sets `amount` aside on a user wallet (pending_debit), refused like a
   * posting when the wallet cannot afford it; a CR hold announces `amount` to arrive
   * (pending_credit). Either is refused, naming `field`, on an account that could not take the
   * posting that will capture it (inactive, or a locked wallet).
   */
  hold(
    accounts: Map<string, LockedAccount>,
    holds: Map<string, HoldState>,
    placement: {
      accountId: string;
      amount: bigint;
      reference: string;
      direction?: Direction;
      trading?: boolean;
      field?: string;
    },
  ): HoldChange {
    const direction = placement.direction ?? 'DR';
    if (placement.amount <= 0n) throw new Error('a hold needs a positive amount');
    const account = accounts.get(placement.accountId);
    if (!account) throw new Error(`account ${placement.accountId} is not locked`);
    if (holds.has(placement.reference)) throw new Error(`hold ${placement.reference} exists already`);
    const before = { ...account };
    checkUsable(account, false, placement.field);
    const after = { ...account, version: account.version + 1n };
    movePending(after, direction, placement.amount);
    checkAvailable(after, before, this.config.business.currencies);
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
    holds.set(hold.reference, hold);
    return { kind: 'hold', hold, account: { ...account }, trading: placement.trading ?? false };
  }

  /** Gives back what a held hold still sets aside, in memory; undefined when it is not held. */
  release(
    accounts: Map<string, LockedAccount>,
    holds: Map<string, HoldState>,
    reference: string,
    trading = false,
  ): HoldChange | undefined {
    const hold = holds.get(reference);
    if (!hold || hold.status !== 'held') return undefined;
    const account = accounts.get(hold.accountId);
    if (!account) throw new Error(`account ${hold.accountId} is not locked`);
    movePending(account, hold.direction, -hold.remaining);
    account.version += 1n;
    hold.status = 'released';
    hold.releasedVersion = account.version;
    return { kind: 'release', hold, account: { ...account }, trading };
  }

  /**
   * Writes postings and hold changes applied in memory, in one statement (ledger-writer.ts), and
   * announces every balance each of them left, in order, to the wallets' owners, and the journals
   * that ask for it (journal-events.ts). Resolves once the write is done.
   */
  async write(tx: EntityManager, changes: readonly LedgerChange[]): Promise<PostedJournal[]> {
    const { posted, written } = await this.sendWrite(tx, changes);
    await written;
    return posted;
  }

  /**
   * write() without waiting for PostgreSQL: resolves once the statement is sent, with the journals
   * as they will be (their ids were taken ahead, journal-ids.ts) and the write's answer, which
   * nothing need await: if it fails, so does the COMMIT (sql.ts send()).
   */
  async sendWrite(
    tx: EntityManager,
    changes: readonly LedgerChange[],
  ): Promise<{ posted: PostedJournal[]; written: Promise<unknown> }> {
    if (changes.length === 0) return { posted: [], written: Promise.resolve() };
    const ids = await this.journalIds.take(tx, changes.filter((change) => 'request' in change).length);
    // As PostgreSQL's now() would give it, had the journal taken its default.
    const createdAt = beganAt(tx);
    const journals = ids.map((id) => ({ id, receiptCode: receiptCodeOf(id, createdAt), createdAt }));
    const written = writeLedgerChanges(tx, changes, journals);
    const posted: PostedJournal[] = [];
    for (const change of changes) {
      if (!('request' in change)) {
        this.announceBalance(tx, change.account, change.trading);
        continue;
      }
      const journal = journals[posted.length];
      for (const account of change.accounts.values()) {
        this.announceBalance(tx, account, change.request.trading ?? false);
      }
      const done: PostedJournal = {
        journalId: String(journal.id),
        receiptCode: journal.receiptCode,
        createdAt: journal.createdAt,
        entries: change.entries,
        accounts: change.accounts,
      };
      if (change.request.announce) {
        announceJournal(this.publisher, tx, this.config.business.currencies, change.request, done);
      }
      posted.push(done);
    }
    return { posted, written };
  }

  /** Holds by reference, locked for the rest of the transaction (so each is resolved once). */
  async lockHolds(tx: EntityManager, references: readonly string[]): Promise<Map<string, HoldState>> {
    if (references.length === 0) return new Map();
    const { rows } = await sql<{
      id: string;
      reference: string;
      account_id: string;
      currency: string;
      direction: Direction;
      amount: string;
      remaining: string;
      status: HoldState['status'];
      placed_version: string;
      released_version: string | null;
    }>(
      tx,
      `SELECT id, reference, account_id, currency, direction, amount, remaining, status, placed_version, released_version
         FROM holds WHERE reference = ANY($1::text[]) ORDER BY id FOR UPDATE`,
      [pgArray([...new Set(references)])],
    );
    return new Map(
      rows.map((row) => [
        row.reference,
        {
          id: String(row.id),
          reference: row.reference,
          accountId: String(row.account_id),
          currency: row.currency,
          direction: row.direction,
          amount: BigInt(row.amount),
          remaining: BigInt(row.remaining),
          status: row.status,
          placedVersion: BigInt(row.placed_version),
          releasedVersion: row.released_version === null ? undefined : BigInt(row.released_version),
        },
      ]),
    );
  }

  /** Places a hold (hold(): DR by default) on an account under a unique reference, in `tx`. */
  async placeHold(
    tx: EntityManager,
    accountId: string,
    amount: bigint,
    reference: string,
    options: { direction?: Direction; field?: string } = {},
  ): Promise<void> {
    const accounts = await this.lock(tx, [accountId]);
    await this.write(tx, [this.hold(accounts, new Map(), { accountId, amount, reference, ...options })]);
  }

  /** Gives held funds back, in `tx`; false when the hold is not (or no longer) held. */
  async releaseHold(tx: EntityManager, reference: string): Promise<boolean> {
    const holds = await this.lockHolds(tx, [reference]);
    const hold = holds.get(reference);
    if (!hold || hold.status !== 'held') return false;
    const accounts = await this.lock(tx, [hold.accountId]);
    await this.write(tx, [this.release(accounts, holds, reference)!]);
    return true;
  }

  /** A held hold, locked for the rest of the transaction: what it still sets aside, and where. */
  async heldByReference(
    tx: EntityManager,
    reference: string,
  ): Promise<{ id: string; accountId: string; amount: bigint; currency: string; direction: Direction } | null> {
    const hold = (await this.lockHolds(tx, [reference])).get(reference);
    return hold && hold.status === 'held'
      ? {
          id: hold.id!,
          accountId: hold.accountId,
          amount: hold.remaining,
          currency: hold.currency,
          direction: hold.direction,
        }
      : null;
  }

  private applyLine(account: LockedAccount, line: PostingLine, request: PostingRequest): PostedEntry {
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

  private announceBalance(tx: EntityManager, account: LockedAccount, trading: boolean): void {
    if (account.kind !== 'user_wallet' || !account.ownerChannel) return;
    const { decimals } = this.config.business.currencies.get(account.currency)!;
    this.publisher.publish(tx, account.ownerChannel, 'balance', {
      account_number: account.accountNumber,
      currency: account.currency,
      balance: toMajor(account.balance, decimals),
      available_balance: toMajor(account.balance - account.pendingDebit, decimals),
      pending_debit: toMajor(account.pendingDebit, decimals),
      pending_credit: toMajor(account.pendingCredit, decimals),
      trading,
      version: Number(account.version),
    });
  }
}
