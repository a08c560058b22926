// Accounts: user wallets (opened at signup for the default currencies, on first credit for the
// others) and the system accounts of every currency, and the rows of a user's wallets (shaped for
// clients by account-reads.service.ts).
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../../core/config/app-config.js';
import { sql } from '../../core/database/sql.js';
import { DomainError } from '../../core/errors/domain-error.js';
import type { AccountKind } from './accounts.types.js';

/** Accounts every posting of a currency may credit are split so they do not serialize postings. */
export const HOT_ACCOUNT_SHARDS = 8;
/** Wallet ids remembered at most (the oldest are forgotten first). */
const MAX_KNOWN_WALLETS = 100_000;

const PREFIX: Record<AccountKind, string> = {
  user_wallet: 'USER',
  fee_revenue: 'FEE',
  partner_settlement: 'PARTNER',
  agent: 'AGENT',
  fx_liquidity: 'FX',
  trading_escrow: 'ESCROW',
  adjustments: 'ADJ',
};

export interface AccountRow {
  id: string;
  account_number: string;
  kind: AccountKind;
  currency: string;
  owner_user_id: string | null;
  balance: string;
  pending_debit: string;
  pending_credit: string;
  version: string;
  is_active: boolean;
  is_locked: boolean;
  created_at: Date;
  last_transaction_at: Date | null;
}

const ACCOUNT_COLUMNS = `a.id, a.account_number, a.kind, a.currency, a.owner_user_id, a.balance, a.pending_debit,
  a.pending_credit, a.version, a.is_active, a.is_locked, a.created_at, a.last_transaction_at`;

@Injectable()
export class AccountsService implements OnApplicationBootstrap {
  /** System account ids never change once created: kind/currency/ref/shard → id. */
  private readonly systemIds = new Map<string, string>();
  /** And their numbers: id → account_number. */
  private readonly systemNumbers = new Map<string, string>();
  /** Wallet ids never change once opened (wallets are never deleted): user/currency → id. */
  private readonly knownWallets = new Map<string, string>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.syncCurrencies();
    await this.ensureSystemAccounts();
  }

  /**
   * Opens wallets for the user in `currencies` (those that exist already are left alone). For a
   * user that does not exist it opens nothing (the caller refuses): the check is inside the INSERT
   * rather than a UsersService call or a foreign-key error, because this runs inside posting batches
   * whose transaction one failed statement would abort for every posting in it.
   */
  async openWallets(tx: EntityManager, userId: string, currencies: readonly string[]): Promise<void> {
    if (currencies.length === 0) return;
    await sql(
      tx,
      `INSERT INTO accounts (id, account_number, kind, currency, owner_user_id)
       SELECT n, 'ACC-USER-' || c || '-' || n, 'user_wallet', c, $1
         FROM (SELECT c, nextval(pg_get_serial_sequence('accounts', 'id')) AS n FROM unnest($2::text[]) AS c) w
        WHERE EXISTS (SELECT 1 FROM users WHERE id = $1)
       ON CONFLICT (owner_user_id, currency) WHERE kind = 'user_wallet' DO NOTHING`,
      [userId, [...currencies]],
    );
  }

  /** The user's wallet in `currency`, opened if it does not exist yet (first credit). */
  async ensureWallet(tx: EntityManager, userId: string, currency: string): Promise<string> {
    const existing = await this.walletId(tx, userId, currency);
    if (existing) return existing;
    await this.openWallets(tx, userId, [currency]);
    const opened = await this.walletId(tx, userId, currency);
    if (!opened) throw new Error(`could not open a ${currency} wallet for user ${userId}`);
    return opened;
  }

  async walletId(manager: EntityManager | DataSource, userId: string, currency: string): Promise<string | null> {
    const { rows } = await sql<{ id: string }>(
      manager,
      `SELECT id FROM accounts WHERE owner_user_id = $1 AND currency = $2 AND kind = 'user_wallet'`,
      [userId, currency],
    );
    return rows[0] ? String(rows[0].id) : null;
  }

  /**
   * The ids of these users' wallets in `currency` (null where there is none), from memory when
   * seen before. Only committed wallets are read, so a remembered id is never rolled back.
   */
  async committedWalletIds(userIds: string[], currency: string): Promise<(string | null)[]> {
    const keyOf = (userId: string) => `${userId}/${currency}`;
    const missing = userIds.filter((userId) => !this.knownWallets.has(keyOf(userId)));
    if (missing.length > 0) {
      const { rows } = await sql<{ owner_user_id: string; id: string }>(
        this.db,
        `SELECT owner_user_id, id FROM accounts WHERE owner_user_id = ANY($1::bigint[]) AND currency = $2 AND kind = 'user_wallet'`,
        [missing, currency],
      );
      for (const row of rows) {
        if (this.knownWallets.size >= MAX_KNOWN_WALLETS) {
          this.knownWallets.delete(this.knownWallets.keys().next().value!);
        }
        this.knownWallets.set(keyOf(String(row.owner_user_id)), String(row.id));
      }
    }
    return userIds.map((userId) => this.knownWallets.get(keyOf(userId)) ?? null);
  }

  /** The id of a system account; `spread` picks the shard of a split hot account. */
  systemAccount(kind: Exclude<AccountKind, 'user_wallet'>, currency: string, ref = '', spread = 0): string {
    const shard = kind === 'fee_revenue' || kind === 'fx_liquidity' ? Math.abs(spread) % HOT_ACCOUNT_SHARDS : 0;
    const id = this.systemIds.get(`${kind}/${currency}/${ref}/${shard}`);
    if (!id) throw new DomainError('ACCOUNT_NOT_FOUND', `no ${kind} account for ${currency}${ref ? ` (${ref})` : ''}`);
    return id;
  }

  /** The number of a system account (`ACC-AGENT-USD-789`). */
  systemAccountNumber(kind: Exclude<AccountKind, 'user_wallet'>, currency: string, ref = ''): string {
    return this.systemNumbers.get(this.systemAccount(kind, currency, ref))!;
  }

  /**
   * The user's wallets, with the user channel's seq read in the same snapshot: one statement, so it
   * reads users.channel itself (a separate UsersService call would be another snapshot).
   */
  async walletsOf(userId: string): Promise<{ accounts: AccountRow[]; asOfSeq: number }> {
    const { rows } = await sql<AccountRow & { as_of_seq: string | null }>(
      this.db,
      `SELECT ${ACCOUNT_COLUMNS},
              (SELECT cs.seq FROM users u JOIN channel_seq cs ON cs.channel = u.channel WHERE u.id = $1) AS as_of_seq
         FROM (SELECT 1) one
         LEFT JOIN accounts a ON a.owner_user_id = $1 AND a.kind = 'user_wallet'
        ORDER BY a.id`,
      [userId],
    );
    const asOfSeq = Number(rows[0]?.as_of_seq ?? 0);
    return { accounts: rows.filter((r) => r.id !== null), asOfSeq };
  }

  /** A wallet of the user by its number; ACCOUNT_NOT_FOUND for anyone else's. */
  async ownWallet(userId: string, accountNumber: string): Promise<{ account: AccountRow; asOfSeq: number }> {
    const { accounts, asOfSeq } = await this.walletsOf(userId);
    const account = accounts.find((a) => a.account_number === accountNumber);
    if (!account) throw new DomainError('ACCOUNT_NOT_FOUND', 'account not found', { field: 'account_number' });
    return { account, asOfSeq };
  }

  /** Keeps the currencies table in step with config/currencies.json; decimals may never change. */
  private async syncCurrencies(): Promise<void> {
    const currencies = [...this.config.business.currencies.values()];
    const { rows } = await sql<{ code: string; decimals: number }>(
      this.db,
      `INSERT INTO currencies (code, name, decimals)
       SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[])
       ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name
       RETURNING code, decimals`,
      [currencies.map((c) => c.code), currencies.map((c) => c.name), currencies.map((c) => c.decimals)],
    );
    for (const row of rows) {
      const configured = this.config.business.currencies.get(row.code)!;
      if (row.decimals !== configured.decimals) {
        throw new Error(
          `config/currencies.json gives ${row.code} ${configured.decimals} decimals but the database holds amounts with ${row.decimals}`,
        );
      }
    }
  }

  /** Creates what is missing (several instances may do this at once) and caches the ids. */
  private async ensureSystemAccounts(): Promise<void> {
    const wanted: { kind: AccountKind; currency: string; ref: string; shard: number }[] = [];
    for (const currency of this.config.business.currencies.keys()) {
      for (let shard = 0; shard < HOT_ACCOUNT_SHARDS; shard += 1) {
        wanted.push(
          { kind: 'fee_revenue', currency, ref: '', shard },
          { kind: 'fx_liquidity', currency, ref: '', shard },
        );
      }
      wanted.push(
        { kind: 'adjustments', currency, ref: '', shard: 0 },
        { kind: 'trading_escrow', currency, ref: '', shard: 0 },
      );
    }
    for (const partner of this.config.business.partners) {
      for (const currency of partner.currencies) {
        wanted.push({ kind: 'partner_settlement', currency, ref: partner.id, shard: 0 });
      }
    }
    for (const agent of this.config.business.agents) {
      for (const currency of agent.currencies) wanted.push({ kind: 'agent', currency, ref: agent.id, shard: 0 });
    }
    await sql(
      this.db,
      `INSERT INTO accounts (id, account_number, kind, currency, system_ref, shard)
       SELECT n, 'ACC-' || p || '-' || c || '-' || n, k, c, r, s
         FROM (SELECT k, c, r, s, p, nextval(pg_get_serial_sequence('accounts', 'id')) AS n
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::text[]) AS w(k, c, r, s, p)
                WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.kind = w.k AND a.currency = w.c
                                    AND a.system_ref = w.r AND a.shard = w.s AND a.kind <> 'user_wallet')) missing
       ON CONFLICT (kind, currency, system_ref, shard) WHERE kind <> 'user_wallet' DO NOTHING`,
      [
        wanted.map((w) => w.kind),
        wanted.map((w) => w.currency),
        wanted.map((w) => w.ref),
        wanted.map((w) => w.shard),
        wanted.map((w) => PREFIX[w.kind]),
      ],
    );
    const { rows } = await sql<{
      id: string;
      account_number: string;
      kind: string;
      currency: string;
      system_ref: string;
      shard: number;
    }>(
      this.db,
      `SELECT id, account_number, kind, currency, system_ref, shard FROM accounts WHERE kind <> 'user_wallet'`,
    );
    for (const row of rows) {
      this.systemIds.set(`${row.kind}/${row.currency}/${row.system_ref}/${row.shard}`, String(row.id));
      this.systemNumbers.set(String(row.id), row.account_number);
    }
  }
}
