// What a user reads of the ledger: entries of their accounts, statements for a period (opening +
// credits - debits = closing, always), and a transaction by receipt. Only their own.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { toMajor } from '../../shared/money.js';
import { AccountsService } from '../accounts/accounts.service.js';

interface EntryRow {
  id: string;
  journal_id: string;
  direction: 'DR' | 'CR';
  amount: string;
  currency: string;
  balance_after: string;
  description: string;
  receipt_code: string;
  created_at: Date;
}

export interface LedgerView {
  id: number;
  journal_id: number;
  amount: number;
  type: 'DR_CR_DEBIT' | 'DR_CR_CREDIT';
  currency: string;
  balance_after: number;
  description: string;
  receipt_code: string;
  created_at: string;
}

export interface StatementView {
  account_number: string;
  currency: string;
  opening_balance: number;
  closing_balance: number;
  total_debits: number;
  total_credits: number;
  period_start: string;
  period_end: string;
  ledgers: LedgerView[];
  transaction_count: number;
}

export interface LedgersPage {
  ledgers: LedgerView[];
  total: number;
  limit: number;
  offset: number;
}

export interface OwnerStatementView {
  statements: StatementView[];
  count: number;
  period_start: string;
  period_end: string;
}

/** A journal as its owner sees it: other users' balances are null. */
export interface ReceiptView {
  journal: { id: number; receipt_code: string; transaction_type: string; description: string; created_at: string };
  ledgers: {
    account_number: string;
    amount: number;
    type: 'DR_CR_DEBIT' | 'DR_CR_CREDIT';
    currency: string;
    balance_after: number | null;
    description: string;
  }[];
  fees: { type: string; amount: number; currency: string }[];
}

/** Statement periods and ledger pages are bounded, so one request cannot read unbounded history. */
const STATEMENT_MAX_ENTRIES = 10_000;

@Injectable()
export class StatementsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly accounts: AccountsService,
    private readonly config: AppConfig,
  ) {}

  async ledgers(
    userId: string,
    accountNumber: string,
    range: { from?: string; to?: string },
    limit = 50,
    offset = 0,
  ): Promise<LedgersPage> {
    const { account } = await this.accounts.ownWallet(userId, accountNumber);
    const [from, to] = this.period(range.from, range.to);
    const { rows } = await sql<EntryRow & { total: string }>(
      this.db,
      `SELECT e.id, e.journal_id, e.direction, e.amount, e.currency, e.balance_after, e.description, j.receipt_code,
              e.created_at, count(*) OVER () AS total
         FROM entries e JOIN journals j ON j.id = e.journal_id
        WHERE e.account_id = $1 AND e.created_at >= $2 AND e.created_at <= $3
        ORDER BY e.account_version DESC LIMIT $4 OFFSET $5`,
      [account.id, from, to, limit, offset],
    );
    let total = Number(rows[0]?.total ?? 0);
    if (rows.length === 0 && offset > 0) total = await this.countEntries(account.id, from, to);
    return { ledgers: rows.map((r) => this.view(r)), total, limit, offset };
  }

  async accountStatement(userId: string, accountNumber: string, from: string, to: string): Promise<StatementView> {
    const { account } = await this.accounts.ownWallet(userId, accountNumber);
    return this.statement(account.id, account.account_number, account.currency, ...this.period(from, to));
  }

  async ownerStatement(userId: string, from: string, to: string): Promise<OwnerStatementView> {
    const [start, end] = this.period(from, to);
    const { accounts } = await this.accounts.walletsOf(userId);
    if (accounts.length === 0) throw new DomainError('NO_ACCOUNTS', 'user has no accounts');
    const statements = [];
    for (const a of accounts) statements.push(await this.statement(a.id, a.account_number, a.currency, start, end));
    return { statements, count: statements.length, period_start: start.toISOString(), period_end: end.toISOString() };
  }

  /** A journal, if the user owns one of its accounts; other users' balances are not shown. */
  async byReceipt(userId: string, receiptCode: string): Promise<ReceiptView> {
    const { rows } = await sql<{
      id: string;
      type: string;
      description: string;
      created_at: Date;
      entries: {
        account_number: string;
        owner: string | null;
        amount: string;
        direction: 'DR' | 'CR';
        currency: string;
        balance_after: string;
        description: string;
      }[];
      fees: { fee_type: string; amount: string; currency: string }[];
    }>(
      this.db,
      `SELECT j.id, j.type, j.description, j.created_at,
              (SELECT json_agg(json_build_object('account_number', a.account_number, 'owner', a.owner_user_id::text,
                        'amount', e.amount::text, 'direction', e.direction, 'currency', e.currency,
                        'balance_after', e.balance_after::text, 'description', e.description) ORDER BY e.id)
                 FROM entries e JOIN accounts a ON a.id = e.account_id WHERE e.journal_id = j.id) AS entries,
              (SELECT coalesce(json_agg(json_build_object('fee_type', f.fee_type, 'amount', f.amount::text, 'currency', f.currency)
                        ORDER BY f.id), '[]'::json)
                 FROM fees f WHERE f.journal_id = j.id) AS fees
         FROM journals j WHERE j.receipt_code = $1`,
      [receiptCode],
    );
    const journal = rows[0];
    if (!journal || !journal.entries.some((e) => e.owner === userId)) {
      throw new DomainError('TRANSACTION_NOT_FOUND', 'transaction not found', { field: 'receipt_code' });
    }
    const decimals = (currency: string) => this.config.business.currencies.get(currency)!.decimals;
    return {
      journal: {
        id: Number(journal.id),
        receipt_code: receiptCode,
        transaction_type: journal.type,
        description: journal.description,
        created_at: new Date(journal.created_at).toISOString(),
      },
      ledgers: journal.entries.map((e) => ({
        account_number: e.account_number,
        amount: toMajor(BigInt(e.amount), decimals(e.currency)),
        type: e.direction === 'DR' ? ('DR_CR_DEBIT' as const) : ('DR_CR_CREDIT' as const),
        currency: e.currency,
        balance_after: e.owner === userId ? toMajor(BigInt(e.balance_after), decimals(e.currency)) : null,
        description: e.description,
      })),
      fees: journal.fees.map((f) => ({
        type: f.fee_type,
        amount: toMajor(BigInt(f.amount), decimals(f.currency)),
        currency: f.currency,
      })),
    };
  }

  /**
   * Opening = the balance after the last entry before `from` (versions order an account's
   * entries); then the period's entries; closing = opening + credits - debits.
   */
  private async statement(
    accountId: string,
    accountNumber: string,
    currency: string,
    from: Date,
    to: Date,
  ): Promise<StatementView> {
    const { decimals } = this.config.business.currencies.get(currency)!;
    const { rows: opening } = await sql<{ balance_after: string }>(
      this.db,
      `SELECT balance_after FROM entries WHERE account_id = $1 AND created_at < $2 ORDER BY account_version DESC LIMIT 1`,
      [accountId, from],
    );
    const { rows } = await sql<EntryRow>(
      this.db,
      `SELECT e.id, e.journal_id, e.direction, e.amount, e.currency, e.balance_after, e.description, j.receipt_code, e.created_at
         FROM entries e JOIN journals j ON j.id = e.journal_id
        WHERE e.account_id = $1 AND e.created_at >= $2 AND e.created_at <= $3
        ORDER BY e.account_version LIMIT $4`,
      [accountId, from, to, STATEMENT_MAX_ENTRIES + 1],
    );
    if (rows.length > STATEMENT_MAX_ENTRIES) {
      throw DomainError.validation(
        'from',
        `the period holds more than ${STATEMENT_MAX_ENTRIES} entries: ask for a shorter one`,
      );
    }
    const openingBalance = BigInt(opening[0]?.balance_after ?? 0);
    let debits = 0n;
    let credits = 0n;
    for (const row of rows) {
      if (row.direction === 'DR') debits += BigInt(row.amount);
      else credits += BigInt(row.amount);
    }
    return {
      account_number: accountNumber,
      currency,
      opening_balance: toMajor(openingBalance, decimals),
      closing_balance: toMajor(openingBalance + credits - debits, decimals),
      total_debits: toMajor(debits, decimals),
      total_credits: toMajor(credits, decimals),
      period_start: from.toISOString(),
      period_end: to.toISOString(),
      ledgers: rows.map((r) => this.view(r)),
      transaction_count: rows.length,
    };
  }

  private period(from?: string, to?: string): [Date, Date] {
    const start = from ? new Date(from) : new Date(0);
    const end = to ? new Date(to) : new Date();
    if (start.getTime() > end.getTime()) throw DomainError.validation('from', 'from must not be after to');
    return [start, end];
  }

  private async countEntries(accountId: string, from: Date, to: Date): Promise<number> {
    const { rows } = await sql<{ n: string }>(
      this.db,
      `SELECT count(*) AS n FROM entries WHERE account_id = $1 AND created_at >= $2 AND created_at <= $3`,
      [accountId, from, to],
    );
    return Number(rows[0].n);
  }

  private view(row: EntryRow): LedgerView {
    const { decimals } = this.config.business.currencies.get(row.currency)!;
    return {
      id: Number(row.id),
      journal_id: Number(row.journal_id),
      amount: toMajor(BigInt(row.amount), decimals),
      type: row.direction === 'DR' ? 'DR_CR_DEBIT' : 'DR_CR_CREDIT',
      currency: row.currency,
      balance_after: toMajor(BigInt(row.balance_after), decimals),
      description: row.description,
      receipt_code: row.receipt_code,
      created_at: row.created_at.toISOString(),
    };
  }
}
