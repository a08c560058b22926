// The posting engine: the only code that changes balances. Within the caller's transaction it
// locks every touched account in id order, applies the lines (user wallets never go below zero
// available), and writes the journal, its entries, its fees and the new balances in one
// statement; then announces the new balances. Holds set funds aside (pending_debit) until they
// are captured into a journal or released.
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import { pgArray } from '../../core/database/pg-array.js';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { AppConfig } from '../../core/config/app-config.js';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher.js';
import { toDecimalString, toMajor } from '../../shared/money.js';
import './ledger.events.js';
import type {
  AccountKind,
  AppliedPosting,
  LockedAccount,
  PostedEntry,
  PostedJournal,
  PostingLine,
  PostingRequest,
} from './ledger.types.js';

const RETRYABLE = new Set(['40P01', '40001']); // deadlock detected, serialization failure
const MAX_ATTEMPTS = 6;

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
      `SELECT a.id, a.account_number, a.kind, a.currency, a.owner_user_id, u.channel AS owner_channel, u.state AS owner_state,
              a.balance, a.pending_debit, a.pending_credit, a.version, a.is_active, a.is_locked
         FROM accounts a LEFT JOIN users u ON u.id = a.owner_user_id
        WHERE a.id = ANY($1::bigint[])
        ORDER BY a.id
        FOR UPDATE OF a`,
      [pgArray(ids)],
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
    const ids = request.lines.map((l) => l.accountId);
    const accounts = locked && ids.every((id) => locked.has(id)) ? locked : await this.lock(tx, ids);
    const [posted] = await this.write(tx, [this.apply(accounts, request)]);
    return posted;
  }

  /**
   * Applies a posting to locked accounts in memory: checks it balances, that every account may
   * take it and that no user wallet ends below zero available, then moves the accounts to their
   * new state. A refusal throws and leaves the accounts as they were, so postings can be applied
   * one after another on the same accounts and each stands or falls alone.
   */
  apply(accounts: Map<string, LockedAccount>, request: PostingRequest): AppliedPosting {
    this.checkBalanced(request.lines);
    const ids = [...new Set(request.lines.map((l) => l.accountId))];
    const next = new Map<string, LockedAccount>();
    for (const id of ids) {
      const account = accounts.get(id);
      if (!account) throw new Error(`account ${id} is not locked`);
      next.set(id, { ...account });
    }
    for (const capture of request.captures ?? []) next.get(capture.accountId)!.pendingDebit -= capture.amount;
    const entries = request.lines.map((line) => this.applyLine(next.get(line.accountId)!, line, request));
    for (const id of ids) this.checkAvailable(next.get(id)!, accounts.get(id)!);
    for (const [id, account] of next) Object.assign(accounts.get(id)!, account);
    return { request, entries, accounts: next };
  }

  /**
   * Writes applied postings in one statement: their journals (in order, so receipt numbers follow
   * it), entries, fees, captured holds and the final balances; then announces every balance each
   * posting left, in order, to the accounts' owners.
   */
  async write(tx: EntityManager, postings: AppliedPosting[]): Promise<PostedJournal[]> {
    if (postings.length === 0) return [];
    const journals = postings.map((p) => p.request);
    const entries = postings.flatMap((p, i) =>
      p.entries.map((entry, j) => ({ entry, journal: i + 1, line: p.request.lines[j] })),
    );
    const fees = postings.flatMap((p, i) => (p.request.fees ?? []).map((fee) => ({ fee, journal: i + 1 })));
    const captures = postings.flatMap((p, i) =>
      (p.request.captures ?? []).map((c) => ({ holdId: c.holdId, journal: i + 1 })),
    );
    const final = new Map<string, LockedAccount>();
    for (const p of postings) for (const [id, account] of p.accounts) final.set(id, account);
    const balances = [...final.values()];
    const { rows } = await sql<{ ord: string; id: string; receipt_code: string; created_at: Date }>(
      tx,
      `WITH input AS (
         SELECT j.ord, j.type, j.description, j.initiated_by, j.metadata,
                nextval(pg_get_serial_sequence('journals', 'id')) AS id
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[])
                WITH ORDINALITY AS j(type, description, initiated_by, metadata, ord)
       ), journal AS (
         INSERT INTO journals (id, receipt_code, type, description, initiated_by, metadata)
         SELECT id, 'RCP-' || extract(year FROM now() AT TIME ZONE 'UTC')::int || '-' || id, type, description, initiated_by, metadata
           FROM input ORDER BY ord
         RETURNING id, receipt_code, created_at
       ), posted AS (
         INSERT INTO entries (journal_id, account_id, currency, direction, amount, balance_after, account_version, description, created_at)
         SELECT input.id, e.account_id, e.currency, e.direction, e.amount, e.balance_after, e.version, e.description, clock_timestamp()
           FROM unnest($5::int[], $6::bigint[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[])
                WITH ORDINALITY AS e(journal, account_id, currency, direction, amount, balance_after, version, description, ord)
           JOIN input ON input.ord = e.journal
          ORDER BY e.ord
       ), charged AS (
         INSERT INTO fees (journal_id, fee_type, amount, currency, account_id)
         SELECT input.id, f.fee_type, f.amount, f.currency, f.account_id
           FROM unnest($13::int[], $14::text[], $15::bigint[], $16::text[], $17::bigint[])
                AS f(journal, fee_type, amount, currency, account_id)
           JOIN input ON input.ord = f.journal
       ), captured AS (
         UPDATE holds SET status = 'captured', journal_id = input.id, resolved_at = now()
           FROM unnest($18::int[], $19::bigint[]) AS c(journal, hold_id) JOIN input ON input.ord = c.journal
          WHERE holds.id = c.hold_id AND holds.status = 'held'
       ), balances AS (
         UPDATE accounts SET balance = b.balance, pending_debit = b.pending_debit, version = b.version,
                updated_at = now(), last_transaction_at = now()
           FROM unnest($20::bigint[], $21::bigint[], $22::bigint[], $23::bigint[]) AS b(id, balance, version, pending_debit)
          WHERE accounts.id = b.id
       )
       SELECT input.ord, journal.id, journal.receipt_code, journal.created_at
         FROM journal JOIN input USING (id) ORDER BY input.ord`,
      [
        pgArray(journals.map((j) => j.type)),
        pgArray(journals.map((j) => j.description)),
        pgArray(journals.map((j) => j.initiatedBy ?? null)),
        pgArray(journals.map((j) => JSON.stringify(j.metadata ?? {}))),
        pgArray(entries.map((e) => e.journal)),
        pgArray(entries.map((e) => e.entry.accountId)),
        pgArray(entries.map((e) => e.entry.currency)),
        pgArray(entries.map((e) => e.entry.direction)),
        pgArray(entries.map((e) => e.entry.amount)),
        pgArray(entries.map((e) => e.entry.balanceAfter)),
        pgArray(entries.map((e) => e.entry.version)),
        pgArray(entries.map((e) => e.line.description)),
        pgArray(fees.map((f) => f.journal)),
        pgArray(fees.map((f) => f.fee.feeType)),
        pgArray(fees.map((f) => f.fee.amount)),
        pgArray(fees.map((f) => f.fee.currency)),
        pgArray(fees.map((f) => f.fee.accountId)),
        pgArray(captures.map((c) => c.journal)),
        pgArray(captures.map((c) => c.holdId)),
        pgArray(balances.map((a) => a.id)),
        pgArray(balances.map((a) => a.balance)),
        pgArray(balances.map((a) => a.version)),
        pgArray(balances.map((a) => a.pendingDebit)),
      ],
    );
    return postings.map((posting, i) => {
      const journal = rows[i];
      for (const account of posting.accounts.values()) this.announceBalance(tx, account);
      return {
        journalId: String(journal.id),
        receiptCode: journal.receipt_code,
        createdAt: journal.created_at,
        entries: posting.entries,
        accounts: posting.accounts,
      };
    });
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

  private applyLine(account: LockedAccount, line: PostingLine, request: PostingRequest): PostedEntry {
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
