// The posting engine: the only code that changes balances. Within the caller's transaction it
// locks every touched account in id order, applies the lines (user wallets never go below zero
// available), and writes the journal, its entries, its fees and the new balances in one
// statement; then announces the new balances. Holds set funds aside (pending_debit) until they
// are captured into a journal or released.
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { AppConfig } from '../../core/config/app-config.js';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { toDecimalString, toMajor } from '../../shared/money.js';
import './ledger.events.js';
import type { AccountKind, LockedAccount, PostedJournal, PostingLine, PostingRequest } from './ledger.types.js';

const RETRYABLE = new Set(['40P01', '40001']); // deadlock detected, serialization failure
const MAX_ATTEMPTS = 6;

interface AccountRow {
  id: string;
  account_number: string;
  kind: AccountKind;
  currency: string;
  owner_user_id: string | null;
  owner_channel: string | null;
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
  balance: BigInt(row.balance),
  pendingDebit: BigInt(row.pending_debit),
  pendingCredit: BigInt(row.pending_credit),
  version: BigInt(row.version),
  isActive: row.is_active,
  isLocked: row.is_locked,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Injectable()
export class LedgerService {
  private readonly logger = new Logger(LedgerService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly publisher: RealtimePublisher,
    private readonly config: AppConfig,
  ) {}

  /**
   * Runs `work` in one transaction. Deadlocks and serialization failures are retried here (with
   * a fresh transaction), never shown to the client; every other failure rolls back and is thrown.
   */
  async transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.db.transaction(work);
      } catch (error) {
        const code = error instanceof QueryFailedError ? (error.driverError as { code?: string }).code : undefined;
        if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw error;
        this.logger.debug({ code, attempt }, 'transaction retried');
        await sleep(Math.random() * 10 * attempt);
      }
    }
  }

  /** Locks accounts in id order (so two postings never wait on each other in a cycle). */
  async lock(tx: EntityManager, accountIds: string[]): Promise<Map<string, LockedAccount>> {
    const ids = [...new Set(accountIds)];
    const { rows } = await sql<AccountRow>(
      tx,
      `SELECT a.id, a.account_number, a.kind, a.currency, a.owner_user_id, u.channel AS owner_channel,
              a.balance, a.pending_debit, a.pending_credit, a.version, a.is_active, a.is_locked
         FROM accounts a LEFT JOIN users u ON u.id = a.owner_user_id
        WHERE a.id = ANY($1::bigint[])
        ORDER BY a.id
        FOR UPDATE OF a`,
      [ids],
    );
    if (rows.length !== ids.length) throw new DomainError('ACCOUNT_NOT_FOUND', 'account not found');
    return new Map(rows.map((row) => [String(row.id), toLocked(row)]));
  }

  /**
   * Posts a balanced journal in `tx`. Accounts already locked by the caller may be passed in.
   * Entries are stamped with the clock at insertion, under the account locks, so on every account
   * their times run in the same order as their versions (statements cut periods by time).
   */
  async post(tx: EntityManager, request: PostingRequest, locked?: Map<string, LockedAccount>): Promise<PostedJournal> {
    this.checkBalanced(request.lines);
    const ids = request.lines.map((l) => l.accountId);
    const accounts = locked && ids.every((id) => locked.has(id)) ? locked : await this.lock(tx, ids);
    const before = new Map([...accounts].map(([id, a]) => [id, { ...a }]));

    for (const capture of request.captures ?? []) {
      const account = accounts.get(capture.accountId)!;
      account.pendingDebit -= capture.amount;
    }
    const entries = request.lines.map((line) => this.apply(accounts.get(line.accountId)!, line, request));
    for (const account of accounts.values()) this.checkAvailable(account, before.get(account.id)!);

    const touched = [...new Set(ids)].map((id) => accounts.get(id)!);
    const { rows } = await sql<{ id: string; receipt_code: string; created_at: Date }>(
      tx,
      `WITH journal AS (
         INSERT INTO journals (id, receipt_code, type, description, initiated_by, metadata)
         SELECT n, 'RCP-' || extract(year FROM now() AT TIME ZONE 'UTC')::int || '-' || n, $1, $2, $3, $4
           FROM (SELECT nextval(pg_get_serial_sequence('journals', 'id')) AS n) next_id
         RETURNING id, receipt_code, created_at
       ), posted AS (
         INSERT INTO entries (journal_id, account_id, currency, direction, amount, balance_after, account_version, description, created_at)
         SELECT journal.id, e.account_id, e.currency, e.direction, e.amount, e.balance_after, e.version, e.description, clock_timestamp()
           FROM journal, unnest($5::bigint[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[])
                AS e(account_id, currency, direction, amount, balance_after, version, description)
       ), charged AS (
         INSERT INTO fees (journal_id, fee_type, amount, currency, account_id)
         SELECT journal.id, f.fee_type, f.amount, f.currency, f.account_id
           FROM journal, unnest($12::text[], $13::bigint[], $14::text[], $15::bigint[]) AS f(fee_type, amount, currency, account_id)
       ), captured AS (
         UPDATE holds SET status = 'captured', journal_id = journal.id, resolved_at = now()
           FROM journal WHERE holds.id = ANY($19::bigint[]) AND holds.status = 'held'
       ), balances AS (
         UPDATE accounts SET balance = b.balance, pending_debit = b.pending_debit, version = b.version,
                updated_at = now(), last_transaction_at = now()
           FROM unnest($16::bigint[], $17::bigint[], $18::bigint[], $20::bigint[]) AS b(id, balance, version, pending_debit)
          WHERE accounts.id = b.id
       )
       SELECT id, receipt_code, created_at FROM journal`,
      [
        request.type,
        request.description,
        request.initiatedBy ?? null,
        JSON.stringify(request.metadata ?? {}),
        entries.map((e) => e.accountId),
        entries.map((e) => e.currency),
        entries.map((e) => e.direction),
        entries.map((e) => e.amount.toString()),
        entries.map((e) => e.balanceAfter.toString()),
        entries.map((e) => e.version.toString()),
        request.lines.map((l) => l.description),
        (request.fees ?? []).map((f) => f.feeType),
        (request.fees ?? []).map((f) => f.amount.toString()),
        (request.fees ?? []).map((f) => f.currency),
        (request.fees ?? []).map((f) => f.accountId),
        touched.map((a) => a.id),
        touched.map((a) => a.balance.toString()),
        touched.map((a) => a.version.toString()),
        (request.captures ?? []).map((c) => c.holdId),
        touched.map((a) => a.pendingDebit.toString()),
      ],
    );
    const journal = rows[0];
    for (const account of touched) this.announceBalance(tx, account);
    return {
      journalId: String(journal.id),
      receiptCode: journal.receipt_code,
      createdAt: journal.created_at,
      entries,
      accounts,
    };
  }

  /** Sets `amount` aside on a user wallet (pending_debit) under a unique reference. */
  async placeHold(tx: EntityManager, accountId: string, amount: bigint, reference: string): Promise<string> {
    if (amount <= 0n) throw new Error('a hold needs a positive amount');
    const account = (await this.lock(tx, [accountId])).get(accountId)!;
    const before = { ...account };
    this.checkUsable(account, false);
    account.pendingDebit += amount;
    account.version += 1n;
    this.checkAvailable(account, before);
    const { rows } = await sql<{ id: string }>(
      tx,
      `WITH hold AS (
         INSERT INTO holds (account_id, currency, amount, reference, placed_version) VALUES ($1, $2, $3, $4, $5) RETURNING id
       ), pending AS (
         UPDATE accounts SET pending_debit = $6, version = $5, updated_at = now() WHERE id = $1
       )
       SELECT id FROM hold`,
      [
        account.id,
        account.currency,
        amount.toString(),
        reference,
        account.version.toString(),
        account.pendingDebit.toString(),
      ],
    );
    this.announceBalance(tx, account);
    return String(rows[0].id);
  }

  /** Gives held funds back; false when the hold is not (or no longer) held. */
  async releaseHold(tx: EntityManager, reference: string): Promise<boolean> {
    const hold = await this.heldByReference(tx, reference);
    if (!hold) return false;
    const account = (await this.lock(tx, [hold.accountId])).get(hold.accountId)!;
    account.pendingDebit -= hold.amount;
    account.version += 1n;
    await sql(
      tx,
      `WITH released AS (
         UPDATE holds SET status = 'released', released_version = $2, resolved_at = now() WHERE id = $1 AND status = 'held'
       )
       UPDATE accounts SET pending_debit = $3, version = $2, updated_at = now() WHERE id = $4`,
      [hold.id, account.version.toString(), account.pendingDebit.toString(), account.id],
    );
    this.announceBalance(tx, account);
    return true;
  }

  /** A held hold, locked for the rest of the transaction (so it is resolved once). */
  async heldByReference(
    tx: EntityManager,
    reference: string,
  ): Promise<{ id: string; accountId: string; amount: bigint; currency: string } | null> {
    const { rows } = await sql<{ id: string; account_id: string; amount: string; currency: string }>(
      tx,
      `SELECT id, account_id, amount, currency FROM holds WHERE reference = $1 AND status = 'held' FOR UPDATE`,
      [reference],
    );
    const row = rows[0];
    return row
      ? { id: String(row.id), accountId: String(row.account_id), amount: BigInt(row.amount), currency: row.currency }
      : null;
  }

  private checkBalanced(lines: PostingLine[]): void {
    if (lines.length < 2) throw new Error('a journal needs at least two lines');
    for (const line of lines) if (line.amount <= 0n) throw new Error('posting lines carry positive amounts');
  }

  private apply(account: LockedAccount, line: PostingLine, request: PostingRequest) {
    this.checkUsable(account, request.type === 'TRANSACTION_TYPE_ADJUSTMENT');
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

  /** An inactive account takes no postings; a locked wallet only administrative adjustments. */
  private checkUsable(account: LockedAccount, administrative: boolean): void {
    if (!account.isActive) throw new DomainError('ACCOUNT_NOT_FOUND', `account ${account.accountNumber} is not active`);
    if (account.isLocked && account.kind === 'user_wallet' && !administrative) {
      throw new DomainError('ACCOUNT_LOCKED', `account ${account.accountNumber} is locked`);
    }
  }

  /** A user wallet never ends below zero available (balance - pending_debit). */
  private checkAvailable(account: LockedAccount, before: LockedAccount): void {
    if (account.kind !== 'user_wallet' || account.balance - account.pendingDebit >= 0n) return;
    const currency = this.config.business.currencies.get(account.currency)!;
    const available = before.balance - before.pendingDebit;
    throw new DomainError(
      'INSUFFICIENT_BALANCE',
      `insufficient balance: available ${toDecimalString(available, currency.decimals)} ${currency.code}`,
      {
        data: { available: toMajor(available, currency.decimals), currency: currency.code },
      },
    );
  }

  private announceBalance(tx: EntityManager, account: LockedAccount): void {
    if (account.kind !== 'user_wallet' || !account.ownerChannel) return;
    const { decimals } = this.config.business.currencies.get(account.currency)!;
    this.publisher.publish(tx, account.ownerChannel, 'balance', {
      account_number: account.accountNumber,
      currency: account.currency,
      balance: toMajor(account.balance, decimals),
      available_balance: toMajor(account.balance - account.pendingDebit, decimals),
      pending_debit: toMajor(account.pendingDebit, decimals),
      pending_credit: toMajor(account.pendingCredit, decimals),
      trading: false,
      version: Number(account.version),
    });
  }
}
