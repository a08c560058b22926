// Property test of the money core against an in-memory model: random sequences of adjustments,
// transfers and conversions (tiny amounts, amounts at and just past what a wallet can pay, amounts
// over it) among a few fresh users. The model predicts exactly which operations succeed and how
// the others are refused; afterwards every wallet equals the model, the fee, FX liquidity and
// adjustments accounts moved by exactly the predicted amounts, the ledger check finds nothing,
// and statements for random periods have opening and closing equal to the model's balances at
// those instants and closing = opening + credits - debits, entry for entry.
import type { INestApplicationContext } from '@nestjs/common';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppConfig } from '../../src/core/config/app-config.js';
import { sql } from '../../src/core/database/sql.js';
import { DomainError } from '../../src/core/errors/domain-error.js';
import { FeesService } from '../../src/modules/fees/fees.service.js';
import { FxService } from '../../src/modules/fx/fx.service.js';
import { AdjustmentsService } from '../../src/modules/ledger/adjustments.service.js';
import { checkLedger } from '../../src/modules/ledger/ledger-check.js';
import { StatementsService, type StatementView } from '../../src/modules/ledger/statements.service.js';
import { TransfersService } from '../../src/modules/transfers/transfers.service.js';
import { convertMinor, rateScaledToString } from '../../src/shared/fx.js';
import { toDecimalString, toMajor } from '../../src/shared/money.js';
import { createMoneyContext, dataSourceOf, fundedUser, type MoneyUser } from '../helpers/money.js';

const USERS = 3;
const CURRENCIES = ['USD', 'EUR', 'KES'] as const;
type Currency = (typeof CURRENCIES)[number];
/** Opened at signup (fundedUser); KES is opened by its first credit. */
const SIGNUP_WALLETS: readonly Currency[] = ['USD', 'EUR'];
const SYSTEM_KINDS = ['fee_revenue', 'fx_liquidity', 'adjustments'] as const;
type SystemKind = (typeof SYSTEM_KINDS)[number];
const NUM_RUNS = 50;

/** An amount, possibly relative to what the paying wallet holds when the command runs. */
type AmountSpec =
  | { kind: 'fixed'; minor: bigint }
  /** The most the wallet can pay including the fee, plus delta (-2..2). */
  | { kind: 'all'; delta: bigint }
  /** More than the whole balance, before any fee. */
  | { kind: 'over'; extra: bigint }
  | { kind: 'share'; percent: bigint };

type Command =
  | { op: 'adjust'; user: number; currency: Currency; direction: 'credit' | 'debit'; amount: AmountSpec }
  | { op: 'transfer'; from: number; to: number; currency: Currency; amount: AmountSpec }
  | { op: 'convert'; user: number; recipient: number | null; from: Currency; to: Currency; amount: AmountSpec };

interface PeriodPick {
  /** Snapshot indices (taken modulo the number of snapshots); undefined is open-ended. */
  from: number | undefined;
  to: number | undefined;
  user: number;
  /** One wallet (get_account_statement) or all of them (get_owner_statement). */
  owner: boolean;
  currency: Currency;
}

type Outcome = { ok: true } | { ok: false; code: string; message: string };

interface ModelEntry {
  /** The command (1-based) that wrote it; snapshot k is taken after command k. */
  step: number;
  direction: 'DR' | 'CR';
  amount: bigint;
  balanceAfter: bigint;
}

// ---- generators -------------------------------------------------------------------------------

const userArb = fc.nat({ max: USERS - 1 });
const currencyArb = fc.constantFrom(...CURRENCIES);
/** An offset to another user (or, rarely, 0: the same one). */
const otherUserArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 8, arbitrary: fc.integer({ min: 1, max: USERS - 1 }) },
);
/** An offset to another currency (or, rarely, 0: the same one). */
const otherCurrencyArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 8, arbitrary: fc.integer({ min: 1, max: CURRENCIES.length - 1 }) },
);
const amountArb: fc.Arbitrary<AmountSpec> = fc.oneof(
  { weight: 2, arbitrary: fc.bigInt({ min: 1n, max: 5n }).map((minor) => ({ kind: 'fixed' as const, minor })) },
  { weight: 3, arbitrary: fc.bigInt({ min: 1n, max: 30_000n }).map((minor) => ({ kind: 'fixed' as const, minor })) },
  { weight: 3, arbitrary: fc.bigInt({ min: -2n, max: 2n }).map((delta) => ({ kind: 'all' as const, delta })) },
  { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 500n }).map((extra) => ({ kind: 'over' as const, extra })) },
  { weight: 3, arbitrary: fc.bigInt({ min: 1n, max: 100n }).map((percent) => ({ kind: 'share' as const, percent })) },
);
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('adjust' as const),
      user: userArb,
      currency: currencyArb,
      direction: fc.constantFrom('credit' as const, 'debit' as const),
      amount: amountArb,
    }),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({ from: userArb, to: otherUserArb, currency: currencyArb, amount: amountArb })
      .map(({ from, to, currency, amount }) => ({
        op: 'transfer' as const,
        from,
        to: (from + to) % USERS,
        currency,
        amount,
      })),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({
        user: userArb,
        recipient: fc.option(otherUserArb, { nil: null }),
        from: currencyArb,
        to: otherCurrencyArb,
        amount: amountArb,
      })
      .map(({ user, recipient, from, to, amount }) => ({
        op: 'convert' as const,
        user,
        recipient: recipient === null ? null : (user + recipient) % USERS,
        from,
        to: CURRENCIES[(CURRENCIES.indexOf(from) + to) % CURRENCIES.length],
        amount,
      })),
  },
);
/** Every user starts with a credit (possibly of 0, i.e. none) in each signup currency. */
const fundingArb: fc.Arbitrary<Command[]> = fc
  .array(fc.bigInt({ min: 0n, max: 50_000n }), { minLength: USERS * 2, maxLength: USERS * 2 })
  .map((amounts) =>
    amounts.flatMap((minor, i) =>
      minor === 0n
        ? []
        : [
            {
              op: 'adjust' as const,
              user: Math.floor(i / 2),
              currency: SIGNUP_WALLETS[i % 2],
              direction: 'credit' as const,
              amount: { kind: 'fixed' as const, minor },
            },
          ],
    ),
  );
const periodArb: fc.Arbitrary<PeriodPick> = fc.record({
  from: fc.option(fc.nat(), { nil: undefined }),
  to: fc.option(fc.nat(), { nil: undefined }),
  user: userArb,
  owner: fc.boolean(),
  currency: currencyArb,
});

// ---- the model --------------------------------------------------------------------------------

const walletKey = (user: number, currency: string) => `${user}:${currency}`;
const systemKey = (kind: SystemKind, currency: string) => `${kind}:${currency}`;

class Model {
  readonly wallets = new Map<string, bigint>();
  readonly entries = new Map<string, ModelEntry[]>();
  /** Predicted change of each system account kind (summed over shards) per currency. */
  readonly system = new Map<string, bigint>();
  step = 0;

  constructor() {
    for (let user = 0; user < USERS; user++) for (const c of SIGNUP_WALLETS) this.wallets.set(walletKey(user, c), 0n);
  }

  has(user: number, currency: string): boolean {
    return this.wallets.has(walletKey(user, currency));
  }

  balance(user: number, currency: string): bigint {
    return this.wallets.get(walletKey(user, currency)) ?? 0n;
  }

  post(user: number, currency: string, direction: 'DR' | 'CR', amount: bigint): void {
    const key = walletKey(user, currency);
    const balanceAfter = (this.wallets.get(key) ?? 0n) + (direction === 'CR' ? amount : -amount);
    this.wallets.set(key, balanceAfter);
    const list = this.entries.get(key) ?? [];
    list.push({ step: this.step, direction, amount, balanceAfter });
    this.entries.set(key, list);
  }

  moveSystem(kind: SystemKind, currency: string, delta: bigint): void {
    const key = systemKey(kind, currency);
    this.system.set(key, (this.system.get(key) ?? 0n) + delta);
  }

  /** Balance of a wallet after command `step` (0: before any). */
  balanceAt(user: number, currency: string, step: number): bigint {
    const list = this.entries.get(walletKey(user, currency)) ?? [];
    let balance = 0n;
    for (const e of list) if (e.step <= step) balance = e.balanceAfter;
    return balance;
  }

  entriesBetween(user: number, currency: string, afterStep: number, upToStep: number): ModelEntry[] {
    return (this.entries.get(walletKey(user, currency)) ?? []).filter((e) => e.step > afterStep && e.step <= upToStep);
  }
}

// ---- the test ---------------------------------------------------------------------------------

let app: INestApplicationContext;
let transfers: TransfersService;
let adjustments: AdjustmentsService;
let statements: StatementsService;
let fees: FeesService;
let decimals: (currency: string) => number;
/** Latest rate of each pair, scaled 1e12 (nothing changes them during this file). */
const rates = new Map<string, bigint>();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  app = await createMoneyContext();
  transfers = app.get(TransfersService);
  adjustments = app.get(AdjustmentsService);
  statements = app.get(StatementsService);
  fees = app.get(FeesService);
  const config = app.get(AppConfig);
  decimals = (currency) => config.business.currencies.get(currency)!.decimals;
  const fx = app.get(FxService);
  for (const from of CURRENCIES) {
    for (const to of CURRENCIES.filter((c) => c !== from)) {
      rates.set(`${from}/${to}`, (await fx.rate(dataSourceOf(app), from, to)).rate);
    }
  }
});

afterAll(async () => {
  await app?.close();
});

/** The largest amount whose amount + fee fits in `available` (0 if none). */
function mostAffordable(available: bigint, feeType: 'transfer' | 'conversion' | null, currency: string): bigint {
  if (available <= 0n) return 0n;
  if (feeType === null) return available;
  const fee = (amount: bigint) => (amount > 0n ? fees.quote(feeType, amount, currency).fee : 0n);
  const { rateMicros } = fees.ruleFor(feeType, currency);
  let amount = (available * 1_000_000n) / (1_000_000n + rateMicros);
  while (amount + 1n + fee(amount + 1n) <= available) amount += 1n;
  while (amount > 0n && amount + fee(amount) > available) amount -= 1n;
  return amount;
}

function resolveAmount(
  spec: AmountSpec,
  available: bigint,
  feeType: 'transfer' | 'conversion' | null,
  currency: string,
) {
  let amount: bigint;
  switch (spec.kind) {
    case 'fixed':
      amount = spec.minor;
      break;
    case 'all':
      amount = mostAffordable(available, feeType, currency) + spec.delta;
      break;
    case 'over':
      amount = available + spec.extra;
      break;
    case 'share':
      amount = (available * spec.percent) / 100n;
      break;
  }
  return amount < 1n ? 1n : amount;
}

const insufficient = (available: bigint, currency: string): Outcome => ({
  ok: false,
  code: 'INSUFFICIENT_BALANCE',
  message: `insufficient balance: available ${toDecimalString(available, decimals(currency))} ${currency}`,
});

/** Runs one command against the service and the model; the outcomes must agree. */
async function apply(model: Model, users: MoneyUser[], command: Command): Promise<void> {
  model.step += 1;
  const major = (minor: bigint, currency: string) => toDecimalString(minor, decimals(currency));
  let expected: Outcome;
  let run: () => Promise<unknown>;
  let check: (result: unknown) => void = () => undefined;
  let commit: () => void = () => undefined;

  switch (command.op) {
    case 'adjust': {
      const { user, currency, direction } = command;
      const available = model.balance(user, currency);
      const amount = resolveAmount(command.amount, direction === 'debit' ? available : 0n, null, currency);
      run = () =>
        adjustments.adjust(users[user].id, {
          user_id: users[user].id,
          currency,
          amount: major(amount, currency),
          direction,
          reason: 'property test',
        });
      if (direction === 'debit' && !model.has(user, currency)) {
        expected = { ok: false, code: 'ACCOUNT_NOT_FOUND', message: 'account not found' };
      } else if (direction === 'debit' && available < amount) {
        expected = insufficient(available, currency);
      } else {
        expected = { ok: true };
        commit = () => {
          model.post(user, currency, direction === 'credit' ? 'CR' : 'DR', amount);
          model.moveSystem('adjustments', currency, direction === 'credit' ? -amount : amount);
        };
      }
      break;
    }
    case 'transfer': {
      const { from, to, currency } = command;
      const available = model.balance(from, currency);
      const amount = resolveAmount(command.amount, available, 'transfer', currency);
      const { fee } = fees.quote('transfer', amount, currency);
      run = () =>
        transfers.transfer(users[from].id, { to_user_id: users[to].id, amount: major(amount, currency), currency });
      if (from === to) {
        expected = { ok: false, code: 'VALIDATION_FAILED', message: 'cannot transfer to yourself' };
      } else if (!model.has(from, currency)) {
        expected = { ok: false, code: 'ACCOUNT_NOT_FOUND', message: 'account not found' };
      } else if (available < amount + fee) {
        expected = insufficient(available, currency);
      } else {
        expected = { ok: true };
        check = (result) =>
          expect(result).toMatchObject({
            amount: toMajor(amount, decimals(currency)),
            fee: toMajor(fee, decimals(currency)),
            currency,
          });
        commit = () => {
          model.post(from, currency, 'DR', amount + fee);
          model.post(to, currency, 'CR', amount);
          model.moveSystem('fee_revenue', currency, fee);
        };
      }
      break;
    }
    case 'convert': {
      const { user, from, to } = command;
      const recipient = command.recipient ?? user;
      const available = model.balance(user, from);
      const amount = resolveAmount(command.amount, available, 'conversion', from);
      const { fee } = fees.quote('conversion', amount, from);
      run = () =>
        transfers.convert(users[user].id, {
          from_currency: from,
          to_currency: to,
          amount: major(amount, from),
          ...(command.recipient === null ? {} : { to_user_id: users[recipient].id }),
        });
      if (from === to) {
        expected = { ok: false, code: 'VALIDATION_FAILED', message: 'to_currency must differ from from_currency' };
        break;
      }
      const rate = rates.get(`${from}/${to}`)!;
      const converted = convertMinor(amount, decimals(from), decimals(to), rate);
      if (converted <= 0n) {
        expected = { ok: false, code: 'VALIDATION_FAILED', message: 'amount is too small to convert' };
      } else if (!model.has(user, from)) {
        expected = { ok: false, code: 'ACCOUNT_NOT_FOUND', message: 'account not found' };
      } else if (available < amount + fee) {
        expected = insufficient(available, from);
      } else {
        expected = { ok: true };
        check = (result) =>
          expect(result).toMatchObject({
            source_currency: from,
            dest_currency: to,
            source_amount: toMajor(amount, decimals(from)),
            converted_amount: toMajor(converted, decimals(to)),
            fx_rate: rateScaledToString(rate),
            fee: toMajor(fee, decimals(from)),
          });
        commit = () => {
          model.post(user, from, 'DR', amount + fee);
          model.post(recipient, to, 'CR', converted);
          model.moveSystem('fx_liquidity', from, amount);
          model.moveSystem('fx_liquidity', to, -converted);
          model.moveSystem('fee_revenue', from, fee);
        };
      }
      break;
    }
  }

  const actual = await run().then(
    (result): { ok: true; result: unknown } => ({ ok: true, result }),
    (error: unknown): { ok: false; code: string; message: string } => {
      if (!(error instanceof DomainError)) throw error;
      return { ok: false, code: error.code, message: error.message };
    },
  );
  const label = `step ${model.step}: ${JSON.stringify(command, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`;
  if (actual.ok) {
    expect({ ok: true }, label).toEqual(expected);
    check(actual.result);
    commit();
  } else {
    expect(actual, label).toEqual(expected);
  }
}

/**
 * A statement boundary strictly between the entries of the previous commands and those of the
 * next: the database clock now, in whole milliseconds rounded up; the caller then waits a little
 * so that the next entries are stamped after it.
 */
async function snapshot(app: INestApplicationContext): Promise<number> {
  const { rows } = await sql<{ us: string }>(
    dataSourceOf(app),
    `SELECT floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text AS us`,
  );
  const ms = Number(BigInt(rows[0].us) / 1000n) + 1;
  await sleep(3);
  return ms;
}

interface WalletRow {
  account_number: string;
  owner_user_id: string;
  currency: string;
  balance: string;
  pending_debit: string;
}

function expectStatement(
  statement: StatementView,
  model: Model,
  user: number,
  period: { fromStep: number; toStep: number },
  label: string,
): void {
  const { currency } = statement;
  const d = decimals(currency);
  const opening = model.balanceAt(user, currency, period.fromStep);
  const closing = model.balanceAt(user, currency, period.toStep);
  const entries = model.entriesBetween(user, currency, period.fromStep, period.toStep);
  const credits = entries.filter((e) => e.direction === 'CR').reduce((sum, e) => sum + e.amount, 0n);
  const debits = entries.filter((e) => e.direction === 'DR').reduce((sum, e) => sum + e.amount, 0n);
  expect(opening + credits - debits, `${label}: the model itself`).toBe(closing);
  expect(
    {
      opening_balance: statement.opening_balance,
      closing_balance: statement.closing_balance,
      total_credits: statement.total_credits,
      total_debits: statement.total_debits,
      transaction_count: statement.transaction_count,
      ledgers: statement.ledgers.map((l) => [l.type, l.amount, l.balance_after]),
    },
    label,
  ).toEqual({
    opening_balance: toMajor(opening, d),
    closing_balance: toMajor(closing, d),
    total_credits: toMajor(credits, d),
    total_debits: toMajor(debits, d),
    transaction_count: entries.length,
    ledgers: entries.map((e) => [
      e.direction === 'DR' ? 'DR_CR_DEBIT' : 'DR_CR_CREDIT',
      toMajor(e.amount, d),
      toMajor(e.balanceAfter, d),
    ]),
  });
  // The identity on the statement's own numbers, in minor units.
  const minor = (major: number) => BigInt(Math.round(major * 10 ** d));
  expect(minor(statement.opening_balance) + minor(statement.total_credits) - minor(statement.total_debits), label).toBe(
    minor(statement.closing_balance),
  );
}

describe('the ledger against a model', () => {
  it('random adjustments, transfers and conversions: balances, system accounts, invariants and statements agree', async () => {
    const db = dataSourceOf(app);
    const systemTotals = async () => {
      const { rows } = await sql<{ kind: string; currency: string; total: string }>(
        db,
        `SELECT kind, currency, sum(balance)::text AS total FROM accounts WHERE kind = ANY($1::text[]) GROUP BY kind, currency`,
        [[...SYSTEM_KINDS]],
      );
      return new Map(rows.map((r) => [systemKey(r.kind as SystemKind, r.currency), BigInt(r.total)]));
    };

    await fc.assert(
      fc.asyncProperty(
        fundingArb,
        fc.array(commandArb, { minLength: 1, maxLength: 25, size: 'medium' }),
        fc.array(periodArb, { minLength: 1, maxLength: 4 }),
        async (funding, commands, periods) => {
          const users = await Promise.all(Array.from({ length: USERS }, () => fundedUser(app)));
          const model = new Model();
          const systemBefore = await systemTotals();
          const snapshots = [await snapshot(app)];
          for (const command of [...funding, ...commands]) {
            await apply(model, users, command);
            snapshots.push(await snapshot(app));
          }

          // Every wallet of these users, and only those the model expects, at the model's balance.
          const { rows } = await sql<WalletRow>(
            db,
            `SELECT account_number, owner_user_id::text, currency, balance::text, pending_debit::text
                 FROM accounts WHERE owner_user_id = ANY($1::bigint[]) AND kind = 'user_wallet'`,
            [users.map((u) => u.id)],
          );
          const numbers = new Map<string, { user: number; currency: string }>();
          const actual: Record<string, string> = {};
          for (const row of rows) {
            const user = users.findIndex((u) => u.id === row.owner_user_id);
            numbers.set(row.account_number, { user, currency: row.currency });
            actual[walletKey(user, row.currency)] = `${row.balance}/${row.pending_debit}`;
          }
          expect(actual, 'wallets (balance/pending_debit)').toEqual(
            Object.fromEntries([...model.wallets].map(([key, balance]) => [key, `${balance}/0`])),
          );

          // The system accounts moved by exactly the model's amounts.
          const systemAfter = await systemTotals();
          for (const kind of SYSTEM_KINDS) {
            for (const currency of CURRENCIES) {
              const key = systemKey(kind, currency);
              const moved = (systemAfter.get(key) ?? 0n) - (systemBefore.get(key) ?? 0n);
              expect(moved, key).toBe(model.system.get(key) ?? 0n);
            }
          }

          // The ledger's invariants over the whole database.
          const report = await checkLedger(
            async <T>(text: string, params?: unknown[]) => (await sql<T>(db, text, params)).rows,
          );
          expect(report.problems, 'ledger invariants').toEqual([]);

          // Statements for random periods between commands, open-ended on either side too.
          const last = snapshots.length - 1;
          for (const pick of periods) {
            let fromIndex = pick.from === undefined ? undefined : pick.from % snapshots.length;
            let toIndex = pick.to === undefined ? undefined : pick.to % snapshots.length;
            if (fromIndex !== undefined && toIndex !== undefined && fromIndex > toIndex) {
              [fromIndex, toIndex] = [toIndex, fromIndex];
            }
            const from = fromIndex === undefined ? '' : new Date(snapshots[fromIndex]).toISOString();
            const to = toIndex === undefined ? '' : new Date(snapshots[toIndex]).toISOString();
            const period = { fromStep: fromIndex ?? 0, toStep: toIndex ?? last };
            const label = `statement of user ${pick.user} from ${fromIndex ?? 'the start'} to ${toIndex ?? 'now'}`;
            const userId = users[pick.user].id;
            if (pick.owner) {
              const owner = await statements.ownerStatement(userId, from, to);
              const expectedWallets = CURRENCIES.filter((c) => model.has(pick.user, c));
              expect(owner.statements.map((s) => s.currency).sort(), label).toEqual([...expectedWallets].sort());
              for (const statement of owner.statements) {
                expect(numbers.get(statement.account_number), label).toEqual({
                  user: pick.user,
                  currency: statement.currency,
                });
                expectStatement(statement, model, pick.user, period, `${label} (${statement.currency})`);
              }
            } else {
              const accountNumber = [...numbers].find(
                ([, w]) => w.user === pick.user && w.currency === pick.currency,
              )?.[0];
              if (!accountNumber) {
                expect(model.has(pick.user, pick.currency), label).toBe(false);
                continue;
              }
              const statement = await statements.accountStatement(userId, accountNumber, from, to);
              expectStatement(statement, model, pick.user, period, `${label} (${pick.currency})`);
            }
          }
        },
      ),
      // A failure shrinks for at most this long (each run creates users and posts for real).
      { numRuns: NUM_RUNS, interruptAfterTimeLimit: 120_000 },
    );
  }, 200_000);
});
