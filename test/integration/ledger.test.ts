// The money core against real PostgreSQL: postings and their events, what the database refuses on
// its own, parallel transfers ending at exactly the predicted balances, idempotency, holds,
// conversions, and refusals that leave the ledger byte-for-byte unchanged.
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../src/core/errors/domain-error.js';
import { sql } from '../../src/core/database/sql.js';
import { AccountsService } from '../../src/modules/accounts/accounts.service.js';
import { AdjustmentsService } from '../../src/modules/ledger/adjustments.service.js';
import { LedgerService } from '../../src/modules/ledger/ledger.service.js';
import { PostingQueue } from '../../src/modules/ledger/posting-queue.js';
import { Transactions } from '../../src/core/database/transactions.js';
import { StatementsService } from '../../src/modules/ledger/statements.service.js';
import { TransfersService } from '../../src/modules/transfers/transfers.service.js';
import { checkLedger } from '../../src/modules/ledger/ledger-check.js';
import { withDb } from '../helpers/db.js';
import {
  balanceOf,
  dataSourceOf,
  fundedUser,
  ledgerFingerprint,
  settle,
  systemTotal,
  type MoneyUser,
} from '../helpers/money.js';
import { createTestContext, testConfig } from '../helpers/nest.js';
import { LedgerModule } from '../../src/modules/ledger/ledger.module.js';
import { TransfersModule } from '../../src/modules/transfers/transfers.module.js';
import { UsersModule } from '../../src/modules/users/users.module.js';

let app: INestApplicationContext;
let transfers: TransfersService;
let ledger: LedgerService;
let transactions: Transactions;

const USD = (major: number | string) => BigInt(Math.round(Number(major) * 100));
const send = (from: MoneyUser, to: MoneyUser, amount: string | number, extra: Record<string, unknown> = {}) =>
  transfers.transfer(from.id, { to_user_id: to.id, amount, currency: 'USD', ...extra });

beforeAll(async () => {
  app = await createTestContext([UsersModule, LedgerModule, TransfersModule], testConfig({ DATABASE_POOL_SIZE: '20' }));
  transfers = app.get(TransfersService);
  ledger = app.get(LedgerService);
  transactions = app.get(Transactions);
});

afterAll(async () => {
  await app?.close();
});

describe('a transfer', () => {
  it('moves the amount, charges the 2% fee to the sender, and announces it', async () => {
    const [alice, bob] = [await fundedUser(app, { USD: '100.00' }), await fundedUser(app)];
    const result = await send(alice, bob, '25.00', { description: 'Payment for lunch' });
    expect(result).toMatchObject({ amount: 25, fee: 0.5, agent_commission: 0, currency: 'USD' });
    expect(result.receipt_code).toMatch(new RegExp(`^RCP-${new Date().getUTCFullYear()}-${result.journal_id}$`));
    expect(await balanceOf(app, alice.wallets.USD)).toBe(USD('74.50'));
    expect(await balanceOf(app, bob.wallets.USD)).toBe(USD('25.00'));

    const events = await withDb((db) =>
      db.query<{ event: string; payload: Record<string, unknown> }>(
        `SELECT event, payload FROM outbox_events o JOIN journals j ON true
          WHERE j.id = $1 AND o.created_at >= j.created_at AND o.payload::text LIKE '%' || j.receipt_code || '%' ORDER BY o.write_id, o.seq`,
        [result.journal_id],
      ),
    );
    expect(events.rows.map((r) => r.event).sort()).toEqual(
      ['transaction_completed', 'transaction_completed', 'transfer_completed', 'transfer_completed'].sort(),
    );
    const balances = await withDb((db) =>
      db.query<{ payload: { account_number: string; balance: number; version: number } }>(
        `SELECT payload FROM outbox_events WHERE event = 'balance' AND payload->>'account_number' IN
           (SELECT account_number FROM accounts WHERE id = ANY($1::bigint[])) ORDER BY write_id, seq`,
        [[alice.wallets.USD, bob.wallets.USD]],
      ),
    );
    // Per account in order; the two accounts' events are on different channels.
    expect(balances.rows.map((r) => [r.payload.balance, r.payload.version]).sort()).toEqual(
      [
        [100, 1],
        [25, 1],
        [74.5, 2],
      ].sort(),
    );
  });

  it('opens the recipient’s wallet on first credit in another currency', async () => {
    const [alice, bob] = [await fundedUser(app, { KES: '1000.00' }), await fundedUser(app)];
    await transfers.transfer(alice.id, { to_user_id: bob.id, amount: 100, currency: 'KES' });
    const wallet = await app.get(AccountsService).walletId(dataSourceOf(app), bob.id, 'KES');
    expect(await balanceOf(app, wallet!)).toBe(10000n);
  });
});

describe('what the database refuses by itself', () => {
  const attempt = (statements: string[]) =>
    withDb(async (db) => {
      await db.query('BEGIN');
      try {
        for (const statement of statements) await db.query(statement);
        await db.query('COMMIT');
        return 'committed';
      } catch (error) {
        await db.query('ROLLBACK').catch(() => undefined);
        return (error as Error).message;
      }
    });

  it('refuses an unbalanced journal (new or committed), ledger rows changing, and negative wallets', async () => {
    const alice = await fundedUser(app, { USD: '10.00' });
    const fee = app.get(AccountsService).systemAccount('fee_revenue', 'USD');
    const journal = `INSERT INTO journals (id, receipt_code, type, description) VALUES (999999001, 'RCP-0000-999999001', 'TRANSACTION_TYPE_ADJUSTMENT', 'x')`;
    expect(
      await attempt([
        journal,
        `INSERT INTO entries (journal_id, account_id, currency, direction, amount, balance_after, account_version, description)
         VALUES (999999001, ${alice.wallets.USD}, 'USD', 'CR', 5, 0, 1000, 'x')`,
      ]),
    ).toMatch(/does not balance in USD/);
    expect(await attempt([journal])).toMatch(/has no entries/);
    // A committed journal takes no entry that would unbalance it later.
    const [{ journal_id: committed }] = await withDb(
      async (db) =>
        (await db.query(`SELECT journal_id FROM entries WHERE account_id = $1 LIMIT 1`, [alice.wallets.USD])).rows,
    );
    expect(
      await attempt([
        `INSERT INTO entries (journal_id, account_id, currency, direction, amount, balance_after, account_version, description)
         VALUES (${committed}, ${alice.wallets.USD}, 'USD', 'CR', 5, 0, 1000, 'x')`,
      ]),
    ).toMatch(new RegExp(`journal ${committed} does not balance in USD`));
    expect(
      await attempt([
        journal,
        `INSERT INTO entries (journal_id, account_id, currency, direction, amount, balance_after, account_version, description)
         VALUES (999999001, ${alice.wallets.USD}, 'USD', 'CR', 0, 0, 1000, 'x'), (999999001, ${fee}, 'USD', 'DR', 0, 0, 1000, 'x')`,
      ]),
    ).toMatch(/entries_amount_positive/);
    expect(await attempt([`UPDATE entries SET amount = amount + 1 WHERE account_id = ${alice.wallets.USD}`])).toMatch(
      /never updated or deleted/,
    );
    expect(
      await attempt([
        `DELETE FROM journals WHERE id IN (SELECT journal_id FROM entries WHERE account_id = ${alice.wallets.USD})`,
      ]),
    ).toMatch(/never updated or deleted/);
    expect(await attempt([`UPDATE accounts SET balance = -1 WHERE id = ${alice.wallets.USD}`])).toMatch(
      /accounts_wallet_available_non_negative/,
    );
    expect(
      await attempt([
        journal,
        `INSERT INTO entries (journal_id, account_id, currency, direction, amount, balance_after, account_version, description)
         VALUES (999999001, ${alice.wallets.USD}, 'USD', 'CR', 5, 0, 1, 'x'), (999999001, ${fee}, 'USD', 'DR', 5, 0, 999999, 'x')`,
      ]),
    ).toMatch(/entries_account_version_key/);
    expect(
      await attempt([
        journal,
        `INSERT INTO entries (journal_id, account_id, currency, direction, amount, balance_after, account_version, description)
         VALUES (999999001, ${alice.wallets.USD}, 'EUR', 'CR', 5, 0, 1000, 'x'), (999999001, ${fee}, 'EUR', 'DR', 5, 0, 1000, 'x')`,
      ]),
    ).toMatch(/entries_account_fkey/);
  });
});

describe('the ledger check', () => {
  it('finds an entry whose balance_after does not follow from the one before it', async () => {
    const alice = await fundedUser(app, { USD: '10.00' });
    await transfers.transfer(alice.id, { to_user_id: (await fundedUser(app)).id, amount: '1.00', currency: 'USD' });
    const problems = await withDb(async (db) => {
      await db.query('BEGIN');
      try {
        // Entries are append-only; with triggers off, in a transaction rolled back, one is made wrong.
        await db.query(`SET LOCAL session_replication_role = replica`);
        await db.query(
          `UPDATE entries SET balance_after = balance_after + 1
            WHERE id = (SELECT min(id) FROM entries WHERE account_id = $1)`,
          [alice.wallets.USD],
        );
        const report = await checkLedger(
          async <T>(text: string, params?: unknown[]) => (await db.query(text, params)).rows as T[],
        );
        return report.problems;
      } finally {
        await db.query('ROLLBACK');
      }
    });
    // The entry made wrong, and the next one (which no longer follows from it).
    expect(problems).toHaveLength(2);
    for (const problem of problems) {
      expect(problem).toMatch(
        /^account \d+: entry \d+ says balance_after \d+, the previous entry and its amount give \d+$/,
      );
    }
  });
});

describe('parallel transfers', () => {
  it('200 transfers of 10 against 1,020 (1,000 plus fees): exactly 100 succeed, the rest are refused', async () => {
    const [alice, bob] = [await fundedUser(app, { USD: '1020.00' }), await fundedUser(app)];
    const feesBefore = await systemTotal(app, 'fee_revenue', 'USD');
    const { ok, codes } = await settle(Array.from({ length: 200 }, () => send(alice, bob, 10)));
    expect(ok).toHaveLength(100);
    expect(codes).toEqual(Array.from({ length: 100 }, () => 'INSUFFICIENT_BALANCE'));
    expect(await balanceOf(app, alice.wallets.USD)).toBe(0n);
    expect(await balanceOf(app, bob.wallets.USD)).toBe(USD(1000));
    expect((await systemTotal(app, 'fee_revenue', 'USD')) - feesBefore).toBe(USD(20));
  });

  it('500 each way between two users and a ring of three: no deadlock reaches a caller, totals unchanged', async () => {
    const [a, b, c] = [
      await fundedUser(app, { USD: '5000' }),
      await fundedUser(app, { USD: '5000' }),
      await fundedUser(app, { USD: '5000' }),
    ];
    const feesBefore = await systemTotal(app, 'fee_revenue', 'USD');
    const work = [
      ...Array.from({ length: 500 }, () => send(a, b, '1.00')),
      ...Array.from({ length: 500 }, () => send(b, a, '1.00')),
      ...Array.from({ length: 100 }, (_, i) => send([a, b, c][i % 3], [b, c, a][i % 3], '1.00')),
    ];
    const { ok, codes } = await settle(work);
    expect(codes).toEqual([]);
    expect(ok).toHaveLength(1100);
    const total =
      (await balanceOf(app, a.wallets.USD)) +
      (await balanceOf(app, b.wallets.USD)) +
      (await balanceOf(app, c.wallets.USD));
    const fees = (await systemTotal(app, 'fee_revenue', 'USD')) - feesBefore;
    expect(fees).toBe(1100n * 2n);
    expect(total + fees).toBe(USD(15000));
  });

  it('100 senders to one receiver: the receiver and the fee accounts end exact', async () => {
    const receiver = await fundedUser(app);
    const senders = await Promise.all(Array.from({ length: 100 }, () => fundedUser(app, { USD: '10.20' })));
    const feesBefore = await systemTotal(app, 'fee_revenue', 'USD');
    const { ok, codes } = await settle(senders.map((s) => send(s, receiver, '10.00')));
    expect(codes).toEqual([]);
    expect(ok).toHaveLength(100);
    expect(await balanceOf(app, receiver.wallets.USD)).toBe(USD(1000));
    expect((await systemTotal(app, 'fee_revenue', 'USD')) - feesBefore).toBe(USD(20));
    for (const s of senders) expect(await balanceOf(app, s.wallets.USD)).toBe(0n);
  });
});

describe('idempotency keys', () => {
  it('50 identical requests with one key: one journal, 50 identical replies', async () => {
    const [alice, bob] = [await fundedUser(app, { USD: '100' }), await fundedUser(app)];
    const { ok, codes } = await settle(
      Array.from({ length: 50 }, () => send(alice, bob, '5.00', { idempotency_key: 'lunch-42' })),
    );
    expect(codes).toEqual([]);
    expect(new Set(ok.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(await balanceOf(app, bob.wallets.USD)).toBe(USD(5));
    const journals = await withDb((db) =>
      db.query(`SELECT count(*)::int AS n FROM entries WHERE account_id = $1`, [bob.wallets.USD]),
    );
    expect(journals.rows[0].n).toBe(1);
  });

  it('the same key with another body is refused with IDEMPOTENCY_CONFLICT and moves nothing', async () => {
    const [alice, bob] = [await fundedUser(app, { USD: '100' }), await fundedUser(app)];
    await send(alice, bob, '5.00', { idempotency_key: 'k-1' });
    const before = await ledgerFingerprint(app);
    await expect(send(alice, bob, '6.00', { idempotency_key: 'k-1' })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
    });
    await expect(
      transfers.convert(alice.id, { from_currency: 'USD', to_currency: 'EUR', amount: '5.00', idempotency_key: 'k-1' }),
    ).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
    expect(await ledgerFingerprint(app)).toBe(before);
    // The same body again replays; another user's identical key is independent.
    expect((await send(alice, bob, '5.00', { idempotency_key: 'k-1' })).journal_id).toBeGreaterThan(0);
    const carol = await fundedUser(app, { USD: '10' });
    await expect(send(carol, bob, '5.00', { idempotency_key: 'k-1' })).resolves.toMatchObject({ amount: 5 });
  });
});

describe('conversion', () => {
  it('converts 100 USD to 92.50 EUR at 0.925 with a 1% fee, each currency netting to zero', async () => {
    const alice = await fundedUser(app, { USD: '101.00' });
    const fxUsd = await systemTotal(app, 'fx_liquidity', 'USD');
    const fxEur = await systemTotal(app, 'fx_liquidity', 'EUR');
    const result = await transfers.convert(alice.id, { from_currency: 'USD', to_currency: 'EUR', amount: 100 });
    expect(result).toMatchObject({
      source_currency: 'USD',
      dest_currency: 'EUR',
      source_amount: 100,
      converted_amount: 92.5,
      fx_rate: '0.925',
      fee: 1,
    });
    expect(await balanceOf(app, alice.wallets.USD)).toBe(0n);
    expect(await balanceOf(app, alice.wallets.EUR)).toBe(9250n);
    expect((await systemTotal(app, 'fx_liquidity', 'USD')) - fxUsd).toBe(10000n);
    expect((await systemTotal(app, 'fx_liquidity', 'EUR')) - fxEur).toBe(-9250n);
  });

  it('converts to another user and rounds the fraction down', async () => {
    const [alice, bob] = [await fundedUser(app, { USD: '1.00' }), await fundedUser(app)];
    const result = await transfers.convert(alice.id, {
      from_currency: 'USD',
      to_currency: 'EUR',
      amount: '0.03',
      to_user_id: bob.id,
    });
    expect(result.converted_amount).toBe(0.02);
    expect(await balanceOf(app, bob.wallets.EUR)).toBe(2n);
  });
});

describe('holds', () => {
  it('place, release and capture keep pending_debit and the versions straight', async () => {
    const alice = await fundedUser(app, { USD: '50.00' });
    const db = dataSourceOf(app);
    const accounts = app.get(AccountsService);
    await transactions.run((tx) => ledger.placeHold(tx, alice.wallets.USD, 3000n, `test-hold-${alice.id}-a`));
    await expect(
      transactions.run((tx) => ledger.placeHold(tx, alice.wallets.USD, 2001n, `test-hold-${alice.id}-b`)),
    ).rejects.toMatchObject({
      code: 'INSUFFICIENT_BALANCE',
      message: 'insufficient balance: available 20.00 USD',
    });
    await transactions.run((tx) => ledger.placeHold(tx, alice.wallets.USD, 1000n, `test-hold-${alice.id}-c`));
    expect(await transactions.run((tx) => ledger.releaseHold(tx, `test-hold-${alice.id}-c`))).toBe(true);
    expect(await transactions.run((tx) => ledger.releaseHold(tx, `test-hold-${alice.id}-c`))).toBe(false);
    // Capture: the held 30.00 leaves the wallet into the adjustments account.
    await transactions.run(async (tx) => {
      const hold = (await ledger.heldByReference(tx, `test-hold-${alice.id}-a`))!;
      await app.get(PostingQueue).post(tx, {
        type: 'TRANSACTION_TYPE_ADJUSTMENT',
        description: 'capture',
        lines: [
          { account: { id: alice.wallets.USD }, direction: 'DR', amount: hold.amount, description: 'captured' },
          {
            account: { id: accounts.systemAccount('adjustments', 'USD') },
            direction: 'CR',
            amount: hold.amount,
            description: 'captured',
          },
        ],
        captures: [{ reference: `test-hold-${alice.id}-a`, amount: hold.amount }],
      });
    });
    const { rows } = await sql<{ balance: string; pending_debit: string; version: string }>(
      db,
      `SELECT balance, pending_debit, version FROM accounts WHERE id = $1`,
      [alice.wallets.USD],
    );
    expect(rows[0]).toEqual({ balance: '2000', pending_debit: '0', version: '5' });
  });
});

describe('holds taken in parts', () => {
  it('captures a hold bit by bit across journals of one write, then releases the rest', async () => {
    const alice = await fundedUser(app, { USD: '50.00' });
    const accounts = app.get(AccountsService);
    const adjustments = accounts.systemAccount('adjustments', 'USD');
    const reference = `test-partial-${alice.id}`;
    const take = (amount: bigint) => ({
      type: 'TRANSACTION_TYPE_ADJUSTMENT' as const,
      description: 'part',
      lines: [
        { accountId: alice.wallets.USD, direction: 'DR' as const, amount, description: 'part' },
        { accountId: adjustments, direction: 'CR' as const, amount, description: 'part' },
      ],
      captures: [{ reference, amount }],
    });
    await transactions.run(async (tx) => {
      const batch = ledger.batch();
      await batch.lock(tx, [alice.wallets.USD, adjustments]);
      const placed = batch.hold({ accountId: alice.wallets.USD, amount: 3000n, reference });
      // More than remains is a bug, refused before anything changes.
      expect(() => batch.post(take(3001n))).toThrow(/not that much/);
      const first = batch.post(take(1000n));
      const second = batch.post(take(500n));
      expect(batch.holds.get(reference)).toMatchObject({ remaining: 1500n, status: 'held' });
      const released = batch.release(reference)!;
      expect(released.account).toMatchObject({ balance: 3500n, pendingDebit: 0n });
      expect(batch.changes).toEqual([placed, first, second, released]);
      await batch.write(tx);
    });
    await withDb(async (db) => {
      const hold = await db.query(`SELECT amount, remaining, status FROM holds WHERE reference = $1`, [reference]);
      expect(hold.rows[0]).toEqual({ amount: '3000', remaining: '1500', status: 'released' });
      const account = await db.query(`SELECT balance, pending_debit, version FROM accounts WHERE id = $1`, [
        alice.wallets.USD,
      ]);
      // Versions: funding 1, hold 2, two captures 3 and 4, release 5.
      expect(account.rows[0]).toEqual({ balance: '3500', pending_debit: '0', version: '5' });
    });
  });

  it('marks a hold captured, with its journal, when its last part is taken', async () => {
    const alice = await fundedUser(app, { USD: '10.00' });
    const adjustments = app.get(AccountsService).systemAccount('adjustments', 'USD');
    const reference = `test-whole-${alice.id}`;
    await transactions.run((tx) => ledger.placeHold(tx, alice.wallets.USD, 400n, reference));
    const posted = await transactions.run(async (tx) => {
      const batch = ledger.batch();
      await batch.lockHolds(tx, [reference]);
      await batch.lock(tx, [alice.wallets.USD, adjustments]);
      for (const amount of [300n, 100n]) {
        batch.post({
          type: 'TRANSACTION_TYPE_ADJUSTMENT',
          description: 'part',
          lines: [
            { accountId: alice.wallets.USD, direction: 'DR', amount, description: 'part' },
            { accountId: adjustments, direction: 'CR', amount, description: 'part' },
          ],
          captures: [{ reference, amount }],
        });
      }
      return batch.write(tx);
    });
    await withDb(async (db) => {
      const hold = await db.query(`SELECT remaining, status, journal_id FROM holds WHERE reference = $1`, [reference]);
      expect(hold.rows[0]).toEqual({ remaining: '0', status: 'captured', journal_id: posted[1].journalId });
    });
  });
});

describe('refusals change nothing', () => {
  let alice: MoneyUser;
  let bob: MoneyUser;

  beforeAll(async () => {
    [alice, bob] = [await fundedUser(app, { USD: '100' }), await fundedUser(app)];
  });

  it.each([
    ['a negative amount', { amount: -5 }, 'VALIDATION_FAILED', 'amount must be greater than zero'],
    ['zero', { amount: '0.00' }, 'VALIDATION_FAILED', 'amount must be greater than zero'],
    ['too many decimals', { amount: '1.001' }, 'VALIDATION_FAILED', 'amount has more than 2 decimal places for USD'],
    ['an exponent', { amount: '1e3' }, 'VALIDATION_FAILED', 'amount must be a number such as 10.50'],
    // eslint-disable-next-line no-loss-of-precision -- the point: 1e400 is Infinity as a double
    ['1e400', { amount: 1e400 }, 'VALIDATION_FAILED', 'amount must be a number such as 10.50'],
    ['a string', { amount: 'ten' }, 'VALIDATION_FAILED', 'amount must be a number such as 10.50'],
    ['an object', { amount: { value: 5 } }, 'VALIDATION_FAILED', 'amount must be a number such as 10.50'],
    ['above the maximum', { amount: '10000000.01' }, 'VALIDATION_FAILED', 'amount must be at most 10000000.00 USD'],
    ['an unknown currency', { currency: 'XYZ' }, 'VALIDATION_FAILED', 'unknown currency XYZ'],
    [
      'more than the balance',
      { amount: '99.00' },
      'INSUFFICIENT_BALANCE',
      'insufficient balance: available 100.00 USD',
    ],
  ])('%s', async (_name, override, code, message) => {
    const before = await ledgerFingerprint(app);
    const error = await transfers
      .transfer(alice.id, { to_user_id: bob.id, amount: '5.00', currency: 'USD', ...override })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code, message });
    expect(await ledgerFingerprint(app)).toBe(before);
  });

  it('to oneself, to an unknown user, from a currency without a wallet, from a locked account', async () => {
    const before = await ledgerFingerprint(app);
    await expect(send(alice, alice, 1)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'cannot transfer to yourself',
    });
    await expect(
      transfers.transfer(alice.id, { to_user_id: '999999999', amount: 1, currency: 'USD' }),
    ).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
      message: 'recipient not found',
    });
    await expect(
      transfers.transfer(alice.id, { to_user_id: bob.id, amount: 1, currency: 'BTC' }),
    ).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
      message: 'account not found',
    });
    expect(await ledgerFingerprint(app)).toBe(before);

    await withDb((db) => db.query(`UPDATE accounts SET is_locked = true WHERE id = $1`, [alice.wallets.USD]));
    const locked = await ledgerFingerprint(app);
    await expect(send(alice, bob, 1)).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED' });
    await expect(send(bob, alice, 1)).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED' });
    expect(await ledgerFingerprint(app)).toBe(locked);
    // An administrator may still correct a locked account.
    await app
      .get(AdjustmentsService)
      .adjust(alice.id, { user_id: alice.id, currency: 'USD', amount: '1', direction: 'credit', reason: 'fix' });
    await withDb((db) => db.query(`UPDATE accounts SET is_locked = false WHERE id = $1`, [alice.wallets.USD]));
  });
});

describe('statements', () => {
  it('opening + credits - debits = closing for a period, with entries in version order', async () => {
    const [alice, bob] = [await fundedUser(app, { USD: '100' }), await fundedUser(app)];
    await send(alice, bob, '10.00');
    const middle = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await send(alice, bob, '20.00');
    await send(bob, alice, '5.00');
    const statements = app.get(StatementsService);
    const accountNumber = (
      await sql<{ account_number: string }>(dataSourceOf(app), `SELECT account_number FROM accounts WHERE id = $1`, [
        alice.wallets.USD,
      ])
    ).rows[0].account_number;
    const statement = await statements.accountStatement(
      alice.id,
      accountNumber,
      middle.toISOString(),
      new Date().toISOString(),
    );
    expect(statement).toMatchObject({
      opening_balance: 89.8,
      total_debits: 20.4,
      total_credits: 5,
      closing_balance: 74.4,
      transaction_count: 2,
    });
    expect(await balanceOf(app, alice.wallets.USD)).toBe(USD('74.40'));
    await expect(
      statements.accountStatement(bob.id, accountNumber, middle.toISOString(), new Date().toISOString()),
    ).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
    });
  });
});
