// The posting engine's database side: it locks accounts (in id order) and holds, hands out the
// batches through which every posting and hold change is applied in memory (ledger-batch.ts: user
// wallets never go below zero available), and writes a batch's journals, their entries and fees,
// the holds and the new balances in one statement (ledger-writer.ts), announcing the new
// balances. Money operations post through the posting queue (posting-queue.ts: submit, or post in
// the caller's transaction); the market's matching takes a batch for its book's transaction, as it
// places, takes and releases holds while it matches. Holds set funds aside to leave an account
// (DR: pending_debit, a withdrawal or an order) or announce funds to arrive (CR: pending_credit, a
// deposit) until they are captured into journals, all at once or in parts, or released.
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
import { LedgerBatch, type HoldPlacement } from './ledger-batch.js';
import { JournalIds } from './journal-ids.js';
import { receiptCodeOf, writeLedgerChanges } from './ledger-writer.js';
import type { AccountKind } from '../accounts/accounts.types.js';
import type { Direction, HoldState, LedgerChange, LockedAccount, PostedJournal } from './ledger.types.js';

// The owners' state and channel by subqueries: an index lookup each, where a join's plan, made
// once for every array of ids, scans the whole users table.
const LOCK_ACCOUNTS = prepared(
  'ledger_lock',
  `SELECT a.id, a.account_number, a.kind, a.currency, a.owner_user_id,
              (SELECT u.channel FROM users u WHERE u.id = a.owner_user_id) AS owner_channel,
              (SELECT u.state FROM users u WHERE u.id = a.owner_user_id) AS owner_state,
              a.balance, a.pending_debit, a.pending_credit, a.version, a.is_active, a.is_locked
         FROM accounts a
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
   * Sends the write of a batch's changes (LedgerBatch.sendWrite) and announces every balance each
   * of them left, in order, to the wallets' owners, and the journals that ask for it
   * (journal-events.ts). Resolves once the statement is sent, with the journals as they will be
   * (their ids were taken ahead, journal-ids.ts) and the write's answer, which nothing need
   * await: if it fails, so does the COMMIT (sql.ts send()).
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

  /** A batch of this transaction's ledger work (ledger-batch.ts), starting from `accounts` and `holds`. */
  batch(accounts?: Map<string, LockedAccount>, holds?: Map<string, HoldState>): LedgerBatch {
    return new LedgerBatch(this, this.config.business.currencies, accounts, holds);
  }

  /** Places a hold (LedgerBatch.hold: DR by default) on an account under a unique reference, in `tx`. */
  async placeHold(
    tx: EntityManager,
    accountId: string,
    amount: bigint,
    reference: string,
    options: Pick<HoldPlacement, 'direction' | 'field'> = {},
  ): Promise<void> {
    const batch = this.batch();
    await batch.lock(tx, [accountId]);
    batch.hold({ accountId, amount, reference, ...options });
    await batch.write(tx);
  }

  /** Gives held funds back, in `tx`; false when the hold is not (or no longer) held. */
  async releaseHold(tx: EntityManager, reference: string): Promise<boolean> {
    const batch = this.batch();
    await batch.lockHolds(tx, [reference]);
    const hold = batch.holds.get(reference);
    if (!hold || hold.status !== 'held') return false;
    await batch.lock(tx, [hold.accountId]);
    batch.release(reference);
    await batch.write(tx);
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
