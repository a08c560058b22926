// Test contexts and factories for money: a Nest context with the money modules, users with funded
// wallets, balances, and a fingerprint of the ledger to prove that a refusal changed nothing.
import type { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { sql } from '../../src/core/database/sql.js';
import { AccountsService } from '../../src/modules/accounts/accounts.service.js';
import { AdjustmentsService } from '../../src/modules/ledger/adjustments.service.js';
import { LedgerModule } from '../../src/modules/ledger/ledger.module.js';
import { TransfersModule } from '../../src/modules/transfers/transfers.module.js';
import { UsersModule } from '../../src/modules/users/users.module.js';
import { UsersService } from '../../src/modules/users/users.service.js';
import { PASSWORD, uniqueEmail } from './factories.js';
import { createTestContext } from './nest.js';

export async function createMoneyContext(): Promise<INestApplicationContext> {
  return createTestContext([UsersModule, LedgerModule, TransfersModule]);
}

export const dataSourceOf = (app: INestApplicationContext): DataSource => app.get<DataSource>(getDataSourceToken());

export interface MoneyUser {
  id: string;
  /** currency → wallet account id */
  wallets: Record<string, string>;
}

/** A user with USD and EUR wallets (as at signup), `funds` credited through admin adjustments. */
export async function fundedUser(app: INestApplicationContext, funds: Record<string, string> = {}): Promise<MoneyUser> {
  const db = dataSourceOf(app);
  const accounts = app.get(AccountsService);
  const user = await db.transaction(async (tx) => {
    const created = await app.get(UsersService).create({ email: uniqueEmail('money'), password: PASSWORD }, 'user', tx);
    await accounts.openWallets(tx, created.id, ['USD', 'EUR']);
    return created;
  });
  for (const [currency, amount] of Object.entries(funds)) {
    await app
      .get(AdjustmentsService)
      .adjust(user.id, { user_id: user.id, currency, amount, direction: 'credit', reason: 'test funding' });
  }
  const wallets: Record<string, string> = {};
  for (const currency of new Set(['USD', 'EUR', ...Object.keys(funds)])) {
    const id = await accounts.walletId(db, user.id, currency);
    if (id) wallets[currency] = id;
  }
  return { id: user.id, wallets };
}

/** Balance in minor units. */
export async function balanceOf(app: INestApplicationContext, accountId: string): Promise<bigint> {
  const { rows } = await sql<{ balance: string }>(dataSourceOf(app), `SELECT balance FROM accounts WHERE id = $1`, [
    accountId,
  ]);
  return BigInt(rows[0].balance);
}

/** Sum of a system account kind over its shards, in minor units. */
export async function systemTotal(app: INestApplicationContext, kind: string, currency: string): Promise<bigint> {
  const { rows } = await sql<{ total: string }>(
    dataSourceOf(app),
    `SELECT coalesce(sum(balance), 0) AS total FROM accounts WHERE kind = $1 AND currency = $2`,
    [kind, currency],
  );
  return BigInt(rows[0].total);
}

/** A digest of every ledger table: equal before and after means nothing was written. */
export async function ledgerFingerprint(app: INestApplicationContext): Promise<string> {
  const { rows } = await sql<{ digest: string }>(
    dataSourceOf(app),
    `SELECT md5(string_agg(t, '|')) AS digest FROM (
       SELECT (SELECT coalesce(md5(string_agg(x::text, ',' ORDER BY x.id)), '') FROM accounts x) AS t
       UNION ALL SELECT (SELECT coalesce(md5(string_agg(x::text, ',' ORDER BY x.id)), '') FROM journals x)
       UNION ALL SELECT (SELECT coalesce(md5(string_agg(x::text, ',' ORDER BY x.id)), '') FROM entries x)
       UNION ALL SELECT (SELECT coalesce(md5(string_agg(x::text, ',' ORDER BY x.id)), '') FROM fees x)
       UNION ALL SELECT (SELECT coalesce(md5(string_agg(x::text, ',' ORDER BY x.id)), '') FROM holds x)
       UNION ALL SELECT (SELECT coalesce(md5(string_agg(x::text, ',' ORDER BY x.user_id, x.key)), '') FROM idempotency_keys x)
     ) parts`,
  );
  return rows[0].digest;
}

/** Settles every promise; counts fulfilled ones and the codes of the rejected ones. */
export async function settle<T>(work: Promise<T>[]): Promise<{ ok: T[]; codes: string[] }> {
  const results = await Promise.allSettled(work);
  return {
    ok: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    codes: results.flatMap((r) =>
      r.status === 'rejected' ? [String((r.reason as { code?: string }).code ?? r.reason)] : [],
    ),
  };
}
