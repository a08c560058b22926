// Postings that arrive together share a transaction (PostingQueue), and each still stands or falls
// alone: one balance event per posting with its own version, refused postings writing nothing and
// giving their idempotency key back, and an unexpected failure failing only its culprit. Postings
// whose accounts' state the queue knows go in one round trip, and never on a state moved on since.
// A posting made in a caller's transaction (post) takes the same path and commits with the caller.
// A posting whose request is still being admitted runs at once only on an idle queue, commits only
// once admitted, and otherwise waits for its verdict before it joins a batch. The queue's prepared
// statements are planned once per connection.
import type { INestApplicationContext } from '@nestjs/common';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Transactions } from '../../src/core/database/transactions.js';
import { DomainError } from '../../src/core/errors/domain-error.js';
import { AccountsService } from '../../src/modules/accounts/accounts.service.js';
import { AdjustmentsService } from '../../src/modules/ledger/adjustments.service.js';
import { LedgerModule } from '../../src/modules/ledger/ledger.module.js';
import type { PostingOrder } from '../../src/modules/ledger/posting-order.js';
import { PostingQueue } from '../../src/modules/ledger/posting-queue.js';
import { TransfersModule } from '../../src/modules/transfers/transfers.module.js';
import { TransfersService } from '../../src/modules/transfers/transfers.service.js';
import { UsersModule } from '../../src/modules/users/users.module.js';
import { accountLockedNow, withDb } from '../helpers/db.js';
import { balanceOf, dataSourceOf, fundedUser, type MoneyUser } from '../helpers/money.js';
import { createTestContext, testConfig } from '../helpers/nest.js';

let app: INestApplicationContext;
let transfers: TransfersService;

beforeAll(async () => {
  app = await createTestContext([UsersModule, LedgerModule, TransfersModule], testConfig({ DATABASE_POOL_SIZE: '20' }));
  transfers = app.get(TransfersService);
});

afterAll(async () => {
  await app?.close();
});

const usersOf = (count: number, funds: Record<string, string> = {}) =>
  Promise.all(Array.from({ length: count }, () => fundedUser(app, funds)));

/** Learns the users' wallet ids first, so their transfers reach the queue in the same tick. */
const warm = (users: MoneyUser[]) =>
  app.get(AccountsService).committedWalletIds(
    users.map((u) => u.id),
    'USD',
  );

/** How many transactions wrote these journals (a journal's created_at is its transaction's start). */
async function transactionsOf(journalIds: number[]): Promise<number> {
  const { rows } = await withDb((db) =>
    db.query<{ n: string }>(`SELECT count(DISTINCT created_at) AS n FROM journals WHERE id = ANY($1::bigint[])`, [
      journalIds,
    ]),
  );
  return Number(rows[0].n);
}

describe('postings that arrive together', () => {
  it('share transactions, and every one announces the balance it left, version by version', async () => {
    const senders = await usersOf(60, { USD: '10.00' });
    const receiver = await fundedUser(app);
    await warm([...senders, receiver]);

    const results = await Promise.all(
      senders.map((s) => transfers.transfer(s.id, { to_user_id: receiver.id, amount: '1.00', currency: 'USD' })),
    );
    expect(await balanceOf(app, receiver.wallets.USD)).toBe(6000n);
    expect(await transactionsOf(results.map((r) => r.journal_id))).toBeLessThan(30);

    // One balance event per transfer, each with the balance its own version left: 1.00 × version.
    const { rows } = await withDb((db) =>
      db.query<{ payload: { balance: number; version: number } }>(
        `SELECT payload FROM outbox_events WHERE event = 'balance'
            AND payload->>'account_number' = (SELECT account_number FROM accounts WHERE id = $1) ORDER BY seq`,
        [receiver.wallets.USD],
      ),
    );
    expect(rows.map((r) => [r.payload.version, r.payload.balance])).toEqual(
      Array.from({ length: 60 }, (_, i) => [i + 1, i + 1]),
    );
  });

  it('refuse one without touching the others, and give its idempotency key back', async () => {
    const rich = await usersOf(15, { USD: '10.00' });
    const poor = await usersOf(15, { USD: '0.50' });
    const receiver = await fundedUser(app);
    await warm([...rich, ...poor, receiver]);
    const keyOf = (user: MoneyUser) => `pay-${user.id}`;
    const pay = (user: MoneyUser) =>
      transfers.transfer(user.id, {
        to_user_id: receiver.id,
        amount: '1.00',
        currency: 'USD',
        idempotency_key: keyOf(user),
      });

    const outcomes = await Promise.allSettled([...rich, ...poor].map(pay));
    expect(outcomes.slice(0, 15).every((o) => o.status === 'fulfilled')).toBe(true);
    for (const outcome of outcomes.slice(15)) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'INSUFFICIENT_BALANCE' } });
    }
    expect(await balanceOf(app, receiver.wallets.USD)).toBe(1500n);
    for (const user of poor) expect(await balanceOf(app, user.wallets.USD)).toBe(50n);
    const { rows } = await withDb((db) =>
      db.query(`SELECT 1 FROM idempotency_keys WHERE user_id = ANY($1::bigint[])`, [poor.map((u) => u.id)]),
    );
    expect(rows).toHaveLength(0);

    // The refused key is free again: with the money there, the same request goes through.
    await app.get(AdjustmentsService).adjust(poor[0].id, {
      user_id: poor[0].id,
      currency: 'USD',
      amount: '10.00',
      direction: 'credit',
      reason: 'top-up',
    });
    await expect(pay(poor[0])).resolves.toMatchObject({ amount: 1, fee: 0.02 });
    await expect(pay(poor[0])).resolves.toMatchObject({ amount: 1, fee: 0.02 });
    expect(await balanceOf(app, poor[0].wallets.USD)).toBe(50n + 1000n - 102n);
  });

  it('fail only the culprit when one of them fails unexpectedly', async () => {
    const queue = app.get(PostingQueue);
    const source = await fundedUser(app, { USD: '100.00' });
    const users = await usersOf(12);
    await warm([source, ...users]);
    const wallet = (user: MoneyUser) => ({ wallet: user.id, currency: 'USD', field: 'currency' });
    const order = (user: MoneyUser, culprit?: 'missing account' | 'bug'): PostingOrder => ({
      type: 'TRANSACTION_TYPE_TRANSFER',
      description: 'queue test',
      initiatedBy: source.id,
      lines: [
        { account: wallet(source), direction: 'DR', amount: 100n, description: 'queue test' },
        culprit === 'missing account'
          ? {
              account: { split: 'fee_revenue', currency: 'XYZ' },
              direction: 'CR',
              amount: 100n,
              description: 'queue test',
            }
          : {
              account: wallet(user),
              direction: 'CR',
              amount: culprit === 'bug' ? 0n : 100n,
              description: 'queue test',
            },
      ],
    });
    // All submitted in one tick: the first few run at once, alone; the rest queue and go together.
    const outcomes = await Promise.allSettled(
      users.map((user, i) => queue.submit(order(user, i === 8 ? 'missing account' : i === 10 ? 'bug' : undefined))),
    );
    outcomes.forEach((outcome, i) => {
      if (i === 8) expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'ACCOUNT_NOT_FOUND' } });
      else if (i === 10) {
        expect(outcome).toMatchObject({
          status: 'rejected',
          reason: { message: 'posting lines carry positive amounts' },
        });
      } else expect(outcome).toMatchObject({ status: 'fulfilled' });
    });
    expect((outcomes[8] as PromiseRejectedResult).reason).toBeInstanceOf(DomainError);
    for (const [i, user] of users.entries()) {
      expect(await balanceOf(app, user.wallets.USD)).toBe(i === 8 || i === 10 ? 0n : 100n);
    }
  });
});

/** The queue's transactions so far, by path (ledger_posting_batches_total). */
async function paths(): Promise<Record<string, number>> {
  const metric = register.getSingleMetric('ledger_posting_batches_total');
  const { values } = await metric!.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.path), v.value]));
}

/** How many more transactions took each path while `work` ran. */
async function pathsOf(work: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await paths();
  await work();
  const after = await paths();
  return Object.fromEntries(
    ['expected', 'read', 'expected_missed'].map((path) => [path, (after[path] ?? 0) - (before[path] ?? 0)]),
  );
}

describe('postings on the states the queue knows', () => {
  const pay = (from: MoneyUser, to: MoneyUser, amount: string) =>
    transfers.transfer(from.id, { to_user_id: to.id, amount, currency: 'USD' });

  it('go in one round trip once their accounts are known, and still end exact', async () => {
    const [alice, bob] = await usersOf(2, { USD: '100.00' });
    await warm([alice, bob]);
    expect(await pathsOf(() => pay(alice, bob, '1.00'))).toMatchObject({ read: 1 });
    expect(await pathsOf(() => pay(alice, bob, '2.00'))).toEqual({ expected: 1, read: 0, expected_missed: 0 });
    expect(await pathsOf(() => pay(bob, alice, '0.50'))).toEqual({ expected: 1, read: 0, expected_missed: 0 });
    expect(await balanceOf(app, alice.wallets.USD)).toBe(10000n - 306n + 50n);
    expect(await balanceOf(app, bob.wallets.USD)).toBe(10000n + 300n - 51n);
  });

  it('are not applied to a state someone else moved on: they run again on the state found, a lock refuses', async () => {
    const [alice, bob] = await usersOf(2, { USD: '10.00' });
    await warm([alice, bob]);
    await pay(alice, bob, '1.00'); // both known now: alice 8.98
    // Behind the queue's back: a credit through another path.
    await app.get(AdjustmentsService).adjust(alice.id, {
      user_id: alice.id,
      currency: 'USD',
      amount: '91.02',
      direction: 'credit',
      reason: 'top-up',
    });
    // Sent on the state known, found moved on under the lock, sent again on the state found.
    expect(await pathsOf(() => pay(alice, bob, '1.00'))).toEqual({ expected: 1, read: 0, expected_missed: 1 });
    expect(await balanceOf(app, alice.wallets.USD)).toBe(898n + 9102n - 102n);
    expect(await balanceOf(app, bob.wallets.USD)).toBe(1000n + 100n + 100n);

    // Locked behind its back (as an admin would): refused, nothing moves.
    await pay(bob, alice, '1.00'); // known again
    await withDb((db) => db.query(`UPDATE accounts SET is_locked = true WHERE id = $1`, [bob.wallets.USD]));
    const bobBefore = await balanceOf(app, bob.wallets.USD);
    await expect(pay(bob, alice, '1.00')).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED' });
    expect(await balanceOf(app, bob.wallets.USD)).toBe(bobBefore);
    await withDb((db) => db.query(`UPDATE accounts SET is_locked = false WHERE id = $1`, [bob.wallets.USD]));
  });

  it('are refused only on state read under the lock: a refusal on a known state is decided again', async () => {
    const [alice, bob] = await usersOf(2, { USD: '1.00' });
    await warm([alice, bob]);
    await pay(alice, bob, '0.50'); // alice 0.49, known
    await app.get(AdjustmentsService).adjust(alice.id, {
      user_id: alice.id,
      currency: 'USD',
      amount: '5.00',
      direction: 'credit',
      reason: 'top-up',
    });
    // Too much for the state the queue knows, enough for the real one.
    await expect(pay(alice, bob, '2.00')).resolves.toMatchObject({ amount: 2, fee: 0.04 });
    expect(await balanceOf(app, alice.wallets.USD)).toBe(49n + 500n - 204n);
  });
});

describe('a posting in the caller’s transaction (post)', () => {
  const pay = (from: MoneyUser, to: MoneyUser, amount: string) =>
    transfers.transfer(from.id, { to_user_id: to.id, amount, currency: 'USD' });
  const order = (from: MoneyUser, to: string, amount: bigint): PostingOrder => ({
    type: 'TRANSACTION_TYPE_ADJUSTMENT',
    description: 'in a caller’s transaction',
    lines: [
      { account: { wallet: from.id, currency: 'USD', field: 'currency' }, direction: 'DR', amount, description: 'out' },
      { account: { wallet: to, currency: 'USD', field: 'to_user_id' }, direction: 'CR', amount, description: 'in' },
    ],
    initiatedBy: from.id,
  });

  it('is written with the caller’s commit, not at all with its rollback, and refuses like a batch of one', async () => {
    const [alice, bob] = await usersOf(2, { USD: '5.00' });
    const postings = app.get(PostingQueue);
    const transactions = app.get(Transactions);
    // Rolled back by the caller after it posted: nothing moved.
    const carol = await fundedUser(app);
    await expect(
      transactions.run(async (tx) => {
        await postings.post(tx, order(alice, carol.id, 100n));
        throw new Error('the caller changes its mind');
      }),
    ).rejects.toThrow('the caller changes its mind');
    expect(await balanceOf(app, alice.wallets.USD)).toBe(500n);
    expect(await balanceOf(app, carol.wallets.USD)).toBe(0n);
    // Refused as any posting is; the caller's transaction rolls back with it.
    await expect(transactions.run((tx) => postings.post(tx, order(alice, bob.id, 501n)))).rejects.toMatchObject({
      code: 'INSUFFICIENT_BALANCE',
    });
    // Committed with the caller's transaction.
    const posted = await transactions.run((tx) => postings.post(tx, order(alice, carol.id, 100n)));
    expect(posted.receiptCode).toMatch(/^RCP-\d{4}-\d+$/);
    expect(await balanceOf(app, alice.wallets.USD)).toBe(400n);
    expect(await balanceOf(app, carol.wallets.USD)).toBe(100n);
  });

  it('runs beside batched transfers on the same accounts and ends exact', async () => {
    const [alice, bob] = await usersOf(2, { USD: '100.00' });
    await warm([alice, bob]);
    const postings = app.get(PostingQueue);
    const transactions = app.get(Transactions);
    // 20 transfers of 1.00 (+0.02 fee) from alice and 20 posts of 0.50 from bob to alice, at once.
    await Promise.all([
      ...Array.from({ length: 20 }, () => pay(alice, bob, '1.00')),
      ...Array.from({ length: 20 }, () => transactions.run((tx) => postings.post(tx, order(bob, alice.id, 50n)))),
    ]);
    expect(await balanceOf(app, alice.wallets.USD)).toBe(10000n - 20n * 102n + 20n * 50n);
    expect(await balanceOf(app, bob.wallets.USD)).toBe(10000n + 20n * 100n - 20n * 50n);
  });
});

describe('postings whose request is still being admitted (a socket request counted meanwhile)', () => {
  const deferred = () => {
    let decide!: (admitted: boolean) => void;
    const admitted = new Promise<boolean>((resolve) => (decide = resolve));
    return { admitted, decide };
  };
  const transfer = (from: MoneyUser, to: MoneyUser, admitted?: Promise<boolean>) =>
    transfers.transfer(from.id, { to_user_id: to.id, amount: '1.00', currency: 'USD' }, admitted);
  const settledOf = (promise: Promise<unknown>) => {
    const state = { settled: false };
    void promise.then(
      () => (state.settled = true),
      () => (state.settled = true),
    );
    return state;
  };

  it('run at once when the queue is idle, commit only once admitted, and nothing when refused', async () => {
    const [alice, bob] = await usersOf(2, { USD: '10.00' });
    await warm([alice, bob]);

    const first = deferred();
    const admitted = transfer(alice, bob, first.admitted);
    const state = settledOf(admitted);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(state.settled).toBe(false);
    // Its transaction is open: it holds the sender's account, waiting to commit.
    expect(await accountLockedNow(alice.wallets.USD)).toBe(true);
    expect(await balanceOf(app, bob.wallets.USD)).toBe(1000n);
    first.decide(true);
    await admitted;
    expect(await balanceOf(app, bob.wallets.USD)).toBe(1100n);

    const second = deferred();
    const refused = transfer(alice, bob, second.admitted);
    second.decide(false);
    await expect(refused).rejects.toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    expect(await balanceOf(app, alice.wallets.USD)).toBe(1000n - 102n);
    expect(await balanceOf(app, bob.wallets.USD)).toBe(1100n);
  });

  it('wait for the verdict before joining a busy queue, so a refusal never fails a batch', async () => {
    const senders = await usersOf(20, { USD: '10.00' });
    const receiver = await fundedUser(app);
    await warm([...senders, receiver]);
    const verdicts = senders.map(() => deferred());
    const all = senders.map((s, i) => transfer(s, receiver, verdicts[i].admitted));
    // Every other one refused, in a mixed order.
    verdicts.forEach((v, i) => setTimeout(() => v.decide(i % 2 === 0), (i * 7) % 20));
    const outcomes = await Promise.allSettled(all);
    expect(outcomes.map((o) => o.status)).toEqual(senders.map((_, i) => (i % 2 === 0 ? 'fulfilled' : 'rejected')));
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
      expect(await balanceOf(app, senders[i].wallets.USD)).toBe(i % 2 === 0 ? 1000n - 102n : 1000n);
    }
    expect(await balanceOf(app, receiver.wallets.USD)).toBe(10n * 100n);
  });
});

describe('the queue’s prepared statements', () => {
  it('are planned once per connection, even where PostgreSQL would plan them again at every call', async () => {
    // One connection, so the statements the queue prepared are this session's to read. Left to
    // itself, PostgreSQL plans a prepared statement anew for its first five calls at least (and the
    // expected-lock for good, at 1 in flight).
    const single = await createTestContext(
      [UsersModule, LedgerModule, TransfersModule],
      testConfig({ DATABASE_POOL_SIZE: '1' }),
    );
    try {
      const [alice, bob] = await Promise.all([fundedUser(single, { USD: '100.00' }), fundedUser(single)]);
      const pay = single.get(TransfersService);
      const plans = async () =>
        Object.fromEntries(
          (
            await dataSourceOf(single).query<{ name: string; generic: number; custom: number }[]>(
              `SELECT name, generic_plans::int AS generic, custom_plans::int AS custom
                 FROM pg_prepared_statements WHERE name IN ('ledger_lock_expected', 'ledger_write')`,
            )
          ).map(({ name, generic, custom }) => [name, { generic, custom }]),
        ) as Record<string, { generic: number; custom: number } | undefined>;
      // The funding (an adjustment, in a transaction of its own that does not ask) may have
      // prepared the write already: what counts is what the queue's transfers add.
      const before = await plans();
      for (let i = 0; i < 8; i += 1) {
        await pay.transfer(alice.id, { to_user_id: bob.id, amount: '1.00', currency: 'USD' });
      }
      expect(await balanceOf(single, bob.wallets.USD)).toBe(800n);
      const after = await plans();
      for (const name of ['ledger_lock_expected', 'ledger_write']) {
        const [was, is] = [before[name] ?? { generic: 0, custom: 0 }, after[name]];
        expect({ name, custom: is!.custom - was.custom }).toEqual({ name, custom: 0 });
        expect(is!.generic - was.generic).toBeGreaterThanOrEqual(name === 'ledger_write' ? 8 : 7);
      }
    } finally {
      await single.close();
    }
  });
});
