// The exchange against real PostgreSQL, through two service instances (two Nest apps on one
// database, each with its own books in memory): random orders placed concurrently end with every
// wallet at exactly what the fills predict, holds equal to the open orders' locked funds, and the
// ledger balanced; refusals change nothing.
import type { INestApplicationContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthenticatedPrincipal } from '../../src/core/realtime/realtime.types.js';
import { LedgerModule } from '../../src/modules/ledger/ledger.module.js';
import { buyLock } from '../../src/modules/market/engine/index.js';
import { MarketCoreModule } from '../../src/modules/market/market.module.js';
import { OrdersService } from '../../src/modules/market/orders.service.js';
import { UsersModule } from '../../src/modules/users/users.module.js';
import { withDb } from '../helpers/db.js';
import { fundedUser, type MoneyUser } from '../helpers/money.js';
import { createTestContext } from '../helpers/nest.js';

let a: INestApplicationContext;
let b: INestApplicationContext;

beforeAll(async () => {
  [a, b] = await Promise.all([
    createTestContext([UsersModule, LedgerModule, MarketCoreModule]),
    createTestContext([UsersModule, LedgerModule, MarketCoreModule]),
  ]);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

async function trader(funds: Record<string, string>): Promise<{ user: MoneyUser; principal: AuthenticatedPrincipal }> {
  const user = await fundedUser(a, funds);
  const channel = await withDb(
    async (db) => (await db.query(`SELECT channel FROM users WHERE id = $1`, [user.id])).rows[0].channel as string,
  );
  const principal: AuthenticatedPrincipal = {
    kind: 'user',
    userId: user.id,
    channel,
    plan: 'standard',
    role: 'user',
    sessionId: randomUUID(),
    tokenExpiresAt: Math.floor(Date.now() / 1000) + 3600,
  };
  return { user, principal };
}

interface Wallet {
  balance: bigint;
  pending: bigint;
}

async function wallets(userIds: string[]): Promise<Map<string, Wallet>> {
  return withDb(async (db) => {
    const { rows } = await db.query<{
      owner_user_id: string;
      currency: string;
      balance: string;
      pending_debit: string;
    }>(
      `SELECT owner_user_id, currency, balance, pending_debit FROM accounts WHERE kind = 'user_wallet' AND owner_user_id = ANY($1)`,
      [userIds],
    );
    return new Map(
      rows.map((r) => [
        `${r.owner_user_id}/${r.currency}`,
        { balance: BigInt(r.balance), pending: BigInt(r.pending_debit) },
      ]),
    );
  });
}

describe('orders placed concurrently through two instances', () => {
  it('settle every fill in the ledger exactly, hold exactly the open orders’ funds, and never deadlock', async () => {
    const traders = await Promise.all(
      Array.from({ length: 20 }, () => trader({ BTC: '10.00000000', EUR: '500000.00' })),
    );
    const ids = traders.map((t) => t.user.id);
    const start = await wallets(ids);
    const order = fc.record({
      trader: fc.integer({ min: 0, max: 19 }),
      side: fc.constantFrom('buy' as const, 'sell' as const),
      market: fc.boolean(),
      tif: fc.constantFrom('gtc' as const, 'gtc' as const, 'ioc' as const, 'fok' as const),
      price: fc.integer({ min: 19_900, max: 20_100 }),
      amount: fc.integer({ min: 1, max: 200 }),
    });
    const orders = fc.sample(order, { numRuns: 200, seed: 42 });
    const results = await Promise.all(
      orders.map(async (o, i) => {
        const service = (i % 2 ? a : b).get(OrdersService);
        try {
          return await service.place(traders[o.trader].principal, {
            pair: 'BTC-EUR',
            side: o.side,
            type: o.market ? 'market' : 'limit',
            amount: (o.amount / 10_000).toFixed(4),
            ...(o.market ? {} : { price: `${o.price}.00` }),
            time_in_force: o.tif,
          });
        } catch (error) {
          return error as Error & { code?: string };
        }
      }),
    );
    const errors = results.filter((r): r is Error & { code?: string } => r instanceof Error);
    const unexpected = errors.filter(
      (e) => !['NO_LIQUIDITY', 'ORDER_NOT_FILLABLE', 'INSUFFICIENT_BALANCE'].includes(e.code ?? ''),
    );
    expect(unexpected.map((e) => `${e.code ?? ''} ${e.message}`)).toEqual([]);
    const placed = results.length - errors.length;
    expect(placed).toBeGreaterThan(100);

    // What the fills predict, per user and currency, from the trades table.
    const { trades, open } = await withDb(async (db) => ({
      trades: (
        await db.query<{
          maker_user_id: string;
          taker_user_id: string;
          taker_side: string;
          amount: string;
          quote_amount: string;
          buyer_fee: string;
          seller_fee: string;
        }>(`SELECT * FROM trades WHERE pair = 'BTC-EUR' AND taker_user_id = ANY($1)`, [ids])
      ).rows,
      open: (
        await db.query<{
          user_id: string;
          side: string;
          price: string;
          amount: string;
          filled: string;
          quote_filled: string;
        }>(
          `SELECT user_id, side, price, amount, filled, quote_filled FROM orders
            WHERE pair = 'BTC-EUR' AND status IN ('open', 'partially_filled') AND user_id = ANY($1)`,
          [ids],
        )
      ).rows,
    }));
    expect(trades.length).toBeGreaterThan(10);
    const expected = new Map<string, Wallet>();
    for (const [key, wallet] of start) expected.set(key, { balance: wallet.balance, pending: 0n });
    const move = (user: string, currency: string, delta: bigint) => {
      const key = `${user}/${currency}`;
      const wallet = expected.get(key) ?? { balance: 0n, pending: 0n };
      wallet.balance += delta;
      expected.set(key, wallet);
    };
    for (const t of trades) {
      const [buyer, seller] =
        t.taker_side === 'buy' ? [t.taker_user_id, t.maker_user_id] : [t.maker_user_id, t.taker_user_id];
      move(String(buyer), 'BTC', BigInt(t.amount) - BigInt(t.buyer_fee));
      move(String(buyer), 'EUR', -BigInt(t.quote_amount));
      move(String(seller), 'BTC', -BigInt(t.amount));
      move(String(seller), 'EUR', BigInt(t.quote_amount) - BigInt(t.seller_fee));
    }
    for (const o of open) {
      const locked =
        o.side === 'sell'
          ? BigInt(o.amount) - BigInt(o.filled)
          : buyLock(BigInt(o.price), BigInt(o.amount)) - BigInt(o.quote_filled);
      expected.get(`${o.user_id}/${o.side === 'sell' ? 'BTC' : 'EUR'}`)!.pending += locked;
    }
    const end = await wallets(ids);
    for (const [key, wallet] of expected) {
      if (!key.endsWith('/BTC') && !key.endsWith('/EUR')) continue;
      expect(end.get(key), key).toEqual(wallet);
    }
  }, 60_000);

  it('refuses an order that cannot be afforded and changes nothing', async () => {
    const { user, principal } = await trader({ EUR: '100.00' });
    const before = await wallets([user.id]);
    const service = a.get(OrdersService);
    await expect(
      service.place(principal, { pair: 'BTC-EUR', side: 'buy', type: 'limit', amount: '0.01', price: '20000.00' }),
    ).rejects.toMatchObject({ code: 'INSUFFICIENT_BALANCE' });
    await expect(
      service.place(principal, { pair: 'BTC-EUR', side: 'sell', type: 'limit', amount: '0.01', price: '20000.00' }),
    ).rejects.toMatchObject({ code: 'INSUFFICIENT_BALANCE' });
    expect(await wallets([user.id])).toEqual(before);
    const rows = await withDb((db) => db.query(`SELECT count(*)::int AS n FROM orders WHERE user_id = $1`, [user.id]));
    expect(rows.rows[0].n).toBe(0);
  });
  it('places an order once for a key sent many times at once, on both instances, and answers each with it', async () => {
    const { user, principal } = await trader({ EUR: '1000.00' });
    const request = {
      pair: 'BTC-EUR',
      side: 'buy' as const,
      type: 'limit' as const,
      amount: '0.01',
      price: '1000.00',
      idempotency_key: `same-${randomUUID()}`,
    };
    // Several land in one batch of a lane, the others wait on the key's row from the other instance.
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? a : b).get(OrdersService).place(principal, request)),
    );
    expect(new Set(answers.map((answer) => answer.id)).size).toBe(1);
    const rows = await withDb((db) => db.query(`SELECT count(*)::int AS n FROM orders WHERE user_id = $1`, [user.id]));
    expect(rows.rows[0].n).toBe(1);
    const wallet = (await wallets([user.id])).get(`${user.id}/EUR`)!;
    expect(wallet.pending).toBe(1000n); // 10.00 EUR held once, for the one order
    await expect(a.get(OrdersService).place(principal, { ...request, amount: '0.02' })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
    });
  });
});
