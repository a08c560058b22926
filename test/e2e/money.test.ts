// Money over the wire against the built service: wallets opened at signup, admin adjustments,
// transfers and conversions with the events pushed to both users, fees quoted as charged,
// ledgers, statements, receipts, idempotency, FX rates, refused requests that change nothing,
// and admin endpoints closed to users.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { countRows } from '../helpers/db.js';
import { signUpAndLogIn, type SignedIn } from '../helpers/factories.js';
import { client, type Client } from '../helpers/http.js';
import { connectUser, type TestSocket } from '../helpers/sockets.js';

const ADMIN = { email: 'money-admin@example.com', password: 'money admin password' };

interface Envelope<T = unknown> {
  type: 'success' | 'error';
  data: { message: string; data?: T; code?: string; field?: string };
  timestamp: number;
}

interface Wallet {
  id: number;
  account_number: string;
  currency: string;
  balance: number;
  version?: number;
  created_at?: string;
}

interface Transfer {
  receipt_code: string;
  journal_id: number;
  fee: number;
  created_at: string;
}

interface Conversion extends Transfer {
  fx_rate: string;
  fx_rate_id: number;
  converted_amount: number;
}

interface Ledger {
  journal_id: number;
  amount: number;
  type: string;
  balance_after: number;
  receipt_code: string;
  created_at: string;
}

interface Statement {
  account_number: string;
  opening_balance: number;
  closing_balance: number;
  total_debits: number;
  total_credits: number;
  ledgers: Ledger[];
  transaction_count: number;
}

interface FxRate {
  id: number;
  base: string;
  quote: string;
  rate: string;
}

/** A user signed in over HTTP with an open `/user` socket and its wallet numbers. */
interface Party extends SignedIn {
  socket: TestSocket;
  usd: string;
  eur: string;
}

let app: AppProcess;
let api: Client;
let adminToken: string;
let admin: TestSocket;
let a: Party;
let b: Party;
let c: Party;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cents = (major: number) => Math.round(major * 100);
const later = () => new Date(Date.now() + 60_000).toISOString();

/** Paced to stay well under the standard plan's 50 messages per second (a user's sockets share it). */
async function ask<T = unknown>(socket: TestSocket, type: string, data: unknown): Promise<Envelope<T>> {
  await sleep(25);
  return (await socket.socket.timeout(5000).emitWithAck(type, data)) as Envelope<T>;
}

/** Sends a request that must succeed; resolves to the inner data. */
async function ok<T>(socket: TestSocket, type: string, data: unknown = {}): Promise<T> {
  const envelope = await ask<T>(socket, type, data);
  expect(envelope, `${type} ${JSON.stringify(data)}`).toMatchObject({
    type: 'success',
    data: { message: expect.any(String) },
  });
  expect(typeof envelope.timestamp).toBe('number');
  return envelope.data.data as T;
}

/** Sends a request that must be refused; resolves to the error data. */
async function refused(socket: TestSocket, type: string, data: unknown): Promise<Envelope['data']> {
  const envelope = await ask(socket, type, data);
  expect(envelope.type, `${type} ${JSON.stringify(data)} → ${JSON.stringify(envelope)}`).toBe('error');
  return envelope.data;
}

const frames = (party: Party) => party.socket.frames().filter((f) => f.channel === party.channel);
const lastSeq = (party: Party) => frames(party).at(-1)?.seq ?? 0;

async function ledgerCheck(): Promise<void> {
  const check = await api.get('/api/v1/admin/ledger/check', { token: adminToken });
  expect(check.status).toBe(200);
  expect(check.body).toMatchObject({ balanced: true, problems: [], accounts_checked: expect.any(Number) });
  for (const totals of Object.values(check.body.currencies as Record<string, { debits: number; credits: number }>)) {
    expect(totals.debits).toBe(totals.credits);
  }
}

async function balanceOf(party: Party, accountNumber: string): Promise<Wallet & { as_of_seq: number }> {
  return ok(party.socket, 'get_account_balance', { account_number: accountNumber });
}

const journalsBy = (party: Party) => countRows('journals', 'initiated_by = $1', [party.userId]);

async function party(): Promise<Party> {
  const user = await signUpAndLogIn(api);
  const socket = await connectUser(app.url, { token: user.accessToken });
  const { accounts } = await ok<{ accounts: Wallet[] }>(socket, 'get_accounts');
  const number = (currency: string) => accounts.find((w) => w.currency === currency)!.account_number;
  return { ...user, socket, usd: number('USD'), eur: number('EUR') };
}

beforeAll(async () => {
  app = await spawnApp({
    env: testEnv({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, REDIS_PREFIX: isolatedRedisPrefix() }),
  });
  api = client(app.url);
  adminToken = (await api.post('/api/v1/auth/login', ADMIN)).body.access_token;
  admin = await connectUser(app.url, { token: adminToken });
  [a, b, c] = await Promise.all([party(), party(), party()]);
});

afterAll(async () => {
  for (const socket of [admin, a?.socket, b?.socket, c?.socket]) socket?.close();
  await app?.stop();
});

describe('money over socket.io /user', () => {
  it('opens empty USD and EUR wallets at signup, read with as_of_seq', async () => {
    const user = await signUpAndLogIn(api);
    const socket = await connectUser(app.url, { token: user.accessToken });
    try {
      const connected = socket.received.find((r) => r.event === 'connected')!.args[0] as { seq: number };
      const read = await ok<{ accounts: Wallet[]; count: number; as_of_seq: number }>(socket, 'get_accounts');
      expect(read.count).toBe(2);
      expect(read.as_of_seq).toBe(connected.seq);
      expect(read.as_of_seq).toBe(0);
      expect(read.accounts.map((w) => w.currency).sort()).toEqual(['EUR', 'USD']);
      for (const wallet of read.accounts) {
        // The number ends in the account id.
        expect(wallet.account_number).toBe(`ACC-USER-${wallet.currency}-${wallet.id}`);
        expect(wallet).toMatchObject({
          purpose: 'ACCOUNT_PURPOSE_WALLET',
          account_type: 'ACCOUNT_TYPE_REAL',
          is_active: true,
          is_locked: false,
          balance: 0,
          available_balance: 0,
          pending_debit: 0,
          pending_credit: 0,
        });
        expect(new Date(wallet.created_at!).toISOString()).toBe(wallet.created_at);
      }
      expect(await ok(socket, 'get_owner_summary')).toMatchObject({
        total_balance_usd: 0,
        total_accounts: 2,
        as_of_seq: 0,
      });
    } finally {
      socket.close();
    }

    // The configured admin never signed up, so has no wallets.
    for (const type of ['get_accounts', 'get_owner_summary']) {
      expect(await refused(admin, type, {})).toMatchObject({ code: 'NO_ACCOUNTS', message: 'user has no accounts' });
    }
  });

  it('credits A 1,000 USD by admin adjustment: balance pushed with version 1, ledger checks out', async () => {
    const adjusted = await api.post(
      '/api/v1/admin/adjustments',
      { user_id: a.userId, currency: 'USD', amount: '1000.00', direction: 'credit', reason: 'e2e funding' },
      { token: adminToken },
    );
    expect(adjusted.status, JSON.stringify(adjusted.body)).toBe(201);
    expect(adjusted.body).toEqual({
      receipt_code: expect.stringMatching(/^RCP-\d{4}-\d+$/),
      journal_id: expect.any(Number),
    });

    const balance = await a.socket.waitFor('stream', (f) => f.event === 'balance');
    expect(balance).toMatchObject({
      channel: a.channel,
      seq: 1,
      payload: {
        account_number: a.usd,
        currency: 'USD',
        balance: 1000,
        available_balance: 1000,
        pending_debit: 0,
        pending_credit: 0,
        trading: false,
        version: 1,
      },
    });
    const completed = await a.socket.waitFor('stream', (f) => f.event === 'transaction_completed');
    expect(completed.payload).toMatchObject({
      receipt_code: adjusted.body.receipt_code,
      transaction_id: adjusted.body.journal_id,
      transaction_type: 'adjustment',
      amount: 1000,
      currency: 'USD',
      balance_after: 1000,
      fee: 0,
    });
    expect(frames(a).map((f) => f.seq)).toEqual([1, 2]);

    // The snapshot lines up with the stream.
    expect(await balanceOf(a, a.usd)).toMatchObject({
      balance: 1000,
      available_balance: 1000,
      version: 1,
      as_of_seq: 2,
    });
    await ledgerCheck();
  });

  let transfer: Transfer;
  let idempotencyKey: string;
  const lunch = () => ({ to_user_id: b.userId, amount: 123.45, currency: 'USD', description: 'Payment for lunch' });

  it('transfers A → B with the quoted fee and pushes balance, transfer_completed, transaction_completed to both', async () => {
    // 2% of 123.45 is 2.469, rounded half-up to 2.47.
    const quote = await ok(a.socket, 'calculate_fee', {
      transaction_type: 'transfer',
      amount: 123.45,
      source_currency: 'USD',
    });
    expect(quote).toMatchObject({ fee_type: 'FEE_TYPE_PLATFORM', amount: 2.47, currency: 'USD', applied_rate: '0.02' });

    idempotencyKey = `lunch-${randomBytes(6).toString('hex')}`;
    const envelope = await ask<Transfer>(a.socket, 'transfer', { ...lunch(), idempotency_key: idempotencyKey });
    expect(envelope).toMatchObject({ type: 'success', data: { message: 'transfer completed' } });
    transfer = envelope.data.data!;
    expect(transfer).toEqual({
      receipt_code: expect.stringMatching(/^RCP-\d{4}-\d+$/),
      journal_id: expect.any(Number),
      amount: 123.45,
      fee: (quote as { amount: number }).amount,
      agent_commission: 0,
      currency: 'USD',
      created_at: expect.any(String),
    });
    expect(new Date(transfer.created_at).toISOString()).toBe(transfer.created_at);

    const transferPayload = {
      receipt_code: transfer.receipt_code,
      transaction_id: transfer.journal_id,
      amount: 123.45,
      currency: 'USD',
      from_account: a.usd,
      to_account: b.usd,
      fee: 2.47,
      timestamp: expect.any(Number),
    };
    // Sender: 1000 − 123.45 − 2.47 = 874.08.
    await a.socket.waitFor('stream', (f) => f.seq === 5);
    expect(frames(a).map((f) => f.seq)).toEqual([1, 2, 3, 4, 5]);
    const sent = frames(a).slice(2);
    expect(sent.map((f) => f.event).sort()).toEqual(['balance', 'transaction_completed', 'transfer_completed']);
    expect(sent.find((f) => f.event === 'balance')!.payload).toMatchObject({
      account_number: a.usd,
      balance: 874.08,
      available_balance: 874.08,
      version: 2,
    });
    expect(sent.find((f) => f.event === 'transfer_completed')!.payload).toEqual(transferPayload);
    expect(sent.find((f) => f.event === 'transaction_completed')!.payload).toEqual({
      receipt_code: transfer.receipt_code,
      transaction_id: transfer.journal_id,
      transaction_type: 'transfer',
      amount: 123.45,
      currency: 'USD',
      balance_after: 874.08,
      fee: 2.47,
      timestamp: expect.any(Number),
    });

    // Receiver: the amount, no fee.
    await b.socket.waitFor('stream', (f) => f.seq === 3);
    expect(frames(b).map((f) => f.seq)).toEqual([1, 2, 3]);
    const got = frames(b);
    expect(got.find((f) => f.event === 'balance')!.payload).toMatchObject({
      account_number: b.usd,
      currency: 'USD',
      balance: 123.45,
      available_balance: 123.45,
      version: 1,
    });
    expect(got.find((f) => f.event === 'transfer_completed')!.payload).toEqual(transferPayload);
    expect(got.find((f) => f.event === 'transaction_completed')!.payload).toMatchObject({
      receipt_code: transfer.receipt_code,
      transaction_type: 'transfer',
      amount: 123.45,
      balance_after: 123.45,
      fee: 0,
    });
    // C saw nothing.
    await sleep(100);
    expect(frames(c)).toEqual([]);

    expect(await balanceOf(a, a.usd)).toMatchObject({ balance: 874.08, version: 2, as_of_seq: 5 });
    expect(await balanceOf(b, b.usd)).toMatchObject({ balance: 123.45, version: 1, as_of_seq: 3 });
    expect(await ok(a.socket, 'get_owner_summary')).toMatchObject({
      account_balances: expect.arrayContaining([
        { account_number: a.usd, currency: 'USD', balance: 874.08, available_balance: 874.08 },
        { account_number: a.eur, currency: 'EUR', balance: 0, available_balance: 0 },
      ]),
      total_balance_usd: 874.08,
      total_accounts: 2,
      as_of_seq: 5,
    });
    await ledgerCheck();
  });

  it('lists the entries page by page, newest first', async () => {
    const first = await ok<{ ledgers: Ledger[]; total: number; limit: number; offset: number }>(
      a.socket,
      'get_ledgers',
      {
        account_number: a.usd,
        limit: 1,
        offset: 0,
      },
    );
    expect(first).toMatchObject({ total: 2, limit: 1, offset: 0 });
    expect(first.ledgers).toEqual([
      expect.objectContaining({
        journal_id: transfer.journal_id,
        receipt_code: transfer.receipt_code,
        amount: 125.92,
        type: 'DR_CR_DEBIT',
        currency: 'USD',
        balance_after: 874.08,
      }),
    ]);
    const second = await ok<{ ledgers: Ledger[]; total: number }>(a.socket, 'get_ledgers', {
      account_number: a.usd,
      limit: 1,
      offset: 1,
    });
    expect(second.total).toBe(2);
    expect(second.ledgers).toEqual([
      expect.objectContaining({ amount: 1000, type: 'DR_CR_CREDIT', balance_after: 1000 }),
    ]);
    expect(await ok(a.socket, 'get_ledgers', { account_number: a.usd, offset: 5 })).toMatchObject({
      ledgers: [],
      total: 2,
      limit: 50,
      offset: 5,
    });
    // Only one's own accounts.
    expect(await refused(c.socket, 'get_ledgers', { account_number: a.usd })).toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
      field: 'account_number',
    });
  });

  it('states every account: closing = opening + credits − debits', async () => {
    const whole = await ok<Statement>(a.socket, 'get_account_statement', {
      account_number: a.usd,
      from: '2000-01-01T00:00:00Z',
      to: later(),
    });
    expect(whole).toMatchObject({
      account_number: a.usd,
      opening_balance: 0,
      total_credits: 1000,
      total_debits: 125.92,
      closing_balance: 874.08,
      transaction_count: 2,
    });
    expect(whole.ledgers.map((l) => l.balance_after)).toEqual([1000, 874.08]);

    // A period that starts at the transfer opens with the adjustment's balance.
    const since = await ok<Statement>(a.socket, 'get_account_statement', {
      account_number: a.usd,
      from: whole.ledgers[1].created_at,
      to: later(),
    });
    expect(since).toMatchObject({
      opening_balance: 1000,
      total_credits: 0,
      total_debits: 125.92,
      closing_balance: 874.08,
      transaction_count: 1,
    });

    const owner = await ok<{ statements: Statement[]; count: number }>(a.socket, 'get_owner_statement', {
      from: '2000-01-01T00:00:00Z',
      to: later(),
    });
    expect(owner.count).toBe(2);
    for (const statement of owner.statements) {
      expect(cents(statement.closing_balance)).toBe(
        cents(statement.opening_balance) + cents(statement.total_credits) - cents(statement.total_debits),
      );
    }
    expect(owner.statements.find((s) => s.account_number === a.usd)).toMatchObject({ closing_balance: 874.08 });
    expect(owner.statements.find((s) => s.account_number === a.eur)).toMatchObject({
      opening_balance: 0,
      closing_balance: 0,
      ledgers: [],
    });
  });

  it('shows a transaction by receipt to its parties only', async () => {
    const seen = await ok(a.socket, 'get_transaction_by_receipt', { receipt_code: transfer.receipt_code });
    expect(seen).toMatchObject({
      journal: {
        id: transfer.journal_id,
        receipt_code: transfer.receipt_code,
        transaction_type: 'TRANSACTION_TYPE_TRANSFER',
        description: 'Payment for lunch',
      },
      fees: [{ type: 'FEE_TYPE_PLATFORM', amount: 2.47, currency: 'USD' }],
    });
    const ledgers = (
      seen as { ledgers: { account_number: string; amount: number; type: string; balance_after: number | null }[] }
    ).ledgers;
    expect(ledgers).toHaveLength(3);
    expect(ledgers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ account_number: a.usd, amount: 125.92, type: 'DR_CR_DEBIT', balance_after: 874.08 }),
        // Other parties' balances are not shown.
        expect.objectContaining({ account_number: b.usd, amount: 123.45, type: 'DR_CR_CREDIT', balance_after: null }),
        expect.objectContaining({ amount: 2.47, type: 'DR_CR_CREDIT', balance_after: null }),
      ]),
    );
    const fromB = await ok<{ ledgers: { account_number: string; balance_after: number | null }[] }>(
      b.socket,
      'get_transaction_by_receipt',
      { receipt_code: transfer.receipt_code },
    );
    expect(fromB.ledgers.find((l) => l.account_number === b.usd)!.balance_after).toBe(123.45);
    expect(fromB.ledgers.find((l) => l.account_number === a.usd)!.balance_after).toBeNull();

    for (const [socket, receipt_code] of [
      [c.socket, transfer.receipt_code],
      [a.socket, 'RCP-2025-999999999999'],
    ] as const) {
      expect(await refused(socket, 'get_transaction_by_receipt', { receipt_code })).toEqual({
        code: 'TRANSACTION_NOT_FOUND',
        message: 'transaction not found',
        field: 'receipt_code',
      });
    }
  });

  it('replays the same idempotency key and body without moving money; refuses it with another body', async () => {
    const journals = await journalsBy(a);
    const framesA = frames(a).length;
    const framesB = frames(b).length;
    for (const body of [lunch(), { ...lunch(), amount: '123.450' }]) {
      const again = await ask<Transfer>(a.socket, 'transfer', { ...body, idempotency_key: idempotencyKey });
      expect(again).toMatchObject({ type: 'success', data: { message: 'transfer completed', data: transfer } });
      expect(again.data.data).toEqual(transfer);
    }
    for (const other of [
      { ...lunch(), amount: 1 },
      { ...lunch(), description: 'Payment for dinner' },
      { ...lunch(), to_user_id: c.userId },
    ]) {
      expect(await refused(a.socket, 'transfer', { ...other, idempotency_key: idempotencyKey })).toMatchObject({
        code: 'IDEMPOTENCY_CONFLICT',
        field: 'idempotency_key',
      });
    }
    // The key is A's own: B may use the same string. Three at once with it move money once.
    const journalsB = await journalsBy(b);
    const fromB = { to_user_id: c.userId, amount: 1, currency: 'USD', idempotency_key: idempotencyKey };
    const concurrent = await Promise.all([1, 2, 3].map(() => ok<Transfer>(b.socket, 'transfer', fromB)));
    expect(concurrent[0]).toMatchObject({ amount: 1, fee: 0.02 });
    expect(concurrent[1]).toEqual(concurrent[0]);
    expect(concurrent[2]).toEqual(concurrent[0]);
    expect(await journalsBy(b)).toBe(journalsB + 1);
    expect(await balanceOf(b, b.usd)).toMatchObject({ balance: 122.43, version: 2 });
    await b.socket.waitFor('stream', (f) => f.seq === framesB + 3);

    expect(await journalsBy(a)).toBe(journals);
    expect(await balanceOf(a, a.usd)).toMatchObject({ balance: 874.08, version: 2 });
    await sleep(200);
    expect(frames(a)).toHaveLength(framesA);
    expect(frames(b)).toHaveLength(framesB + 3);
  });

  it('converts USD → EUR at the latest rate, rounded down, with the quoted fee; a new rate is used next', async () => {
    const rates = await api.get<{ rates: FxRate[] }>('/api/v1/fx-rates', { token: a.accessToken });
    expect(rates.status).toBe(200);
    const seeded = rates.body.rates.find((r) => r.base === 'USD' && r.quote === 'EUR')!;
    expect(seeded).toMatchObject({ rate: '0.925', id: expect.any(Number) });

    // 1% of 100.01 is 1.0001 → 1.00; 100.01 × 0.925 = 92.50925 → 92.50.
    const quote = await ok(a.socket, 'calculate_fee', {
      transaction_type: 'conversion',
      amount: '100.01',
      source_currency: 'USD',
      target_currency: 'EUR',
    });
    expect(quote).toMatchObject({ amount: 1, currency: 'USD', applied_rate: '0.01' });
    const envelope = await ask<Conversion>(a.socket, 'convert_and_transfer', {
      from_currency: 'USD',
      to_currency: 'EUR',
      amount: '100.01',
      idempotency_key: `fx-${randomBytes(6).toString('hex')}`,
    });
    expect(envelope.data.message).toBe('conversion completed');
    const converted = envelope.data.data!;
    expect(converted).toEqual({
      receipt_code: expect.stringMatching(/^RCP-\d{4}-\d+$/),
      journal_id: expect.any(Number),
      source_currency: 'USD',
      dest_currency: 'EUR',
      source_amount: 100.01,
      converted_amount: 92.5,
      fx_rate: '0.925',
      fx_rate_id: seeded.id,
      fee: 1,
      created_at: expect.any(String),
    });
    // USD: 874.08 − 101.01 = 773.07.
    await a.socket.waitFor('stream', (f) => f.seq === 9);
    const pushed = frames(a).slice(5);
    expect(pushed.map((f) => f.seq)).toEqual([6, 7, 8, 9]);
    expect(pushed.filter((f) => f.event === 'balance').map((f) => f.payload)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ account_number: a.usd, balance: 773.07, version: 3 }),
        expect.objectContaining({ account_number: a.eur, currency: 'EUR', balance: 92.5, version: 1 }),
      ]),
    );
    expect(pushed.filter((f) => f.event === 'transaction_completed').map((f) => f.payload)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          transaction_type: 'conversion',
          currency: 'USD',
          amount: 100.01,
          fee: 1,
          balance_after: 773.07,
        }),
        expect.objectContaining({
          transaction_type: 'conversion',
          currency: 'EUR',
          amount: 92.5,
          fee: 0,
          balance_after: 92.5,
        }),
      ]),
    );

    const set = await api.post(
      '/api/v1/admin/fx-rates',
      { base: 'USD', quote: 'EUR', rate: '0.9' },
      { token: adminToken },
    );
    try {
      expect(set.status, JSON.stringify(set.body)).toBe(201);
      expect(set.body).toMatchObject({ base: 'USD', quote: 'EUR', rate: '0.9' });
      expect(set.body.id).toBeGreaterThan(seeded.id);
      const listed = await api.get<{ rates: FxRate[] }>('/api/v1/fx-rates', { token: a.accessToken });
      expect(listed.body.rates.filter((r) => r.base === 'USD' && r.quote === 'EUR')).toEqual([
        expect.objectContaining({ id: set.body.id, rate: '0.9' }),
      ]);
      const next = await ok<Conversion>(a.socket, 'convert_and_transfer', {
        from_currency: 'USD',
        to_currency: 'EUR',
        amount: 10,
      });
      expect(next).toMatchObject({ fx_rate: '0.9', fx_rate_id: set.body.id, converted_amount: 9, fee: 0.1 });
    } finally {
      // Leave the seeded rate in force for whatever runs next against this database.
      const restored = await api.post(
        '/api/v1/admin/fx-rates',
        { base: 'USD', quote: 'EUR', rate: '0.925' },
        { token: adminToken },
      );
      expect(restored.status).toBe(201);
    }

    // USD 773.07 − 10.10 = 762.97; EUR 101.50 at EUR→USD 1.081081081081 = 109.729… → 109.72.
    expect(await ok(a.socket, 'get_owner_summary')).toMatchObject({ total_balance_usd: 872.69 });
    await ledgerCheck();
  });

  it('refuses bad input with the documented code and field, and changes nothing', async () => {
    const usdBefore = await balanceOf(a, a.usd);
    const eurBefore = await balanceOf(a, a.eur);
    expect(usdBefore.balance).toBe(762.97);
    const journals = await journalsBy(a);
    const framesA = frames(a).length;
    const toB = { to_user_id: b.userId, currency: 'USD' };
    const VALIDATION = 'VALIDATION_FAILED';
    const expectRefusal = async (type: string, data: unknown, code: string, field?: string, message?: string) => {
      const error = await refused(a.socket, type, data);
      expect(error, `${type} ${JSON.stringify(data)}`).toMatchObject({ code });
      if (field) expect(error.field, JSON.stringify(data)).toBe(field);
      if (message) expect(error.message, JSON.stringify(data)).toBe(message);
    };
    const transferOf = (amount: unknown) => ({ ...toB, amount });
    const notPositive = 'amount must be greater than zero';

    // Amounts: over-precise, not positive, huge, not numbers.
    await expectRefusal(
      'transfer',
      transferOf('1.001'),
      VALIDATION,
      'amount',
      'amount has more than 2 decimal places for USD',
    );
    await expectRefusal('transfer', transferOf(-5), VALIDATION, 'amount', notPositive);
    await expectRefusal('transfer', transferOf(0), VALIDATION, 'amount', notPositive);
    await expectRefusal('transfer', transferOf('0.00'), VALIDATION, 'amount', notPositive);
    await expectRefusal('transfer', transferOf('1e400'), VALIDATION, 'amount');
    await expectRefusal(
      'transfer',
      transferOf(20_000_000),
      VALIDATION,
      'amount',
      'amount must be at most 10000000.00 USD',
    );
    await expectRefusal('transfer', transferOf(1e20), VALIDATION, 'amount');
    await expectRefusal('transfer', transferOf({ value: 1 }), VALIDATION, 'amount');
    await expectRefusal('transfer', transferOf(true), VALIDATION, 'amount');
    await expectRefusal('transfer', { ...toB }, VALIDATION, 'amount', 'amount is required');
    // Recipients and currencies.
    await expectRefusal('transfer', { amount: 1, currency: 'USD' }, VALIDATION, 'to_user_id', 'to_user_id is required');
    await expectRefusal('transfer', { ...transferOf(1), to_user_id: 'bob' }, VALIDATION, 'to_user_id');
    await expectRefusal('transfer', { ...transferOf(1), to_user_id: a.userId }, VALIDATION, 'to_user_id');
    await expectRefusal(
      'transfer',
      { ...transferOf(1), to_user_id: '999999999999' },
      'ACCOUNT_NOT_FOUND',
      'to_user_id',
    );
    // An id past bigint is malformed, not a failed query.
    await expectRefusal('transfer', { ...transferOf(1), to_user_id: '9223372036854775808' }, VALIDATION, 'to_user_id');
    await expectRefusal(
      'convert_and_transfer',
      { from_currency: 'USD', to_currency: 'EUR', amount: 1, to_user_id: '9223372036854775808' },
      VALIDATION,
      'to_user_id',
    );
    await expectRefusal(
      'transfer',
      { ...transferOf(1), currency: 'XYZ' },
      VALIDATION,
      'currency',
      'unknown currency XYZ',
    );
    await expectRefusal('transfer', { ...transferOf(1), currency: 'usd' }, VALIDATION, 'currency');
    // The whole balance is not enough: the fee comes on top.
    const short = 'insufficient balance: available 762.97 USD';
    await expectRefusal('transfer', transferOf(762.97), 'INSUFFICIENT_BALANCE', undefined, short);
    // Shapes: unknown fields, long keys, data that is not an object.
    await expectRefusal('transfer', { ...transferOf(1), admin: true }, VALIDATION, 'admin');
    await expectRefusal(
      'transfer',
      { ...transferOf(1), idempotency_key: 'k'.repeat(65) },
      VALIDATION,
      'idempotency_key',
    );
    await expectRefusal('transfer', 'send 10 USD to bob', 'INVALID_REQUEST');
    // Conversions.
    const convert = (from_currency: string, to_currency: string, amount: unknown) => ({
      from_currency,
      to_currency,
      amount,
    });
    await expectRefusal('convert_and_transfer', convert('USD', 'USD', 1), VALIDATION, 'to_currency');
    await expectRefusal('convert_and_transfer', convert('USD', 'XYZ', 1), VALIDATION, 'to_currency');
    // 0.01 USD would give 0.00925 EUR: nothing to credit.
    await expectRefusal('convert_and_transfer', convert('USD', 'EUR', 0.01), VALIDATION, 'amount');
    // 101.50 EUR plus its 1.02 fee is more than the 101.50 held.
    const shortEur = 'insufficient balance: available 101.50 EUR';
    await expectRefusal(
      'convert_and_transfer',
      convert('EUR', 'USD', 101.5),
      'INSUFFICIENT_BALANCE',
      undefined,
      shortEur,
    );
    // Reads.
    const fee = { transaction_type: 'bribe', amount: 1, source_currency: 'USD' };
    await expectRefusal('calculate_fee', fee, VALIDATION, 'transaction_type');
    await expectRefusal('get_account_balance', { account_number: b.usd }, 'ACCOUNT_NOT_FOUND', 'account_number');
    await expectRefusal('get_ledgers', { account_number: a.usd, limit: 500 }, VALIDATION, 'limit');
    const backwards = { account_number: a.usd, from: later(), to: '2000-01-01T00:00:00Z' };
    await expectRefusal('get_account_statement', backwards, VALIDATION, 'from');

    // Without an ack, the same error arrives as a `response` event naming the request.
    a.socket.socket.emit('transfer', { ...toB, amount: -1 });
    expect(await a.socket.waitFor('response', (r) => r.data.message === notPositive)).toMatchObject({
      type: 'error',
      request_type: 'transfer',
      data: { code: 'VALIDATION_FAILED', field: 'amount' },
    });
    // Frames written raw: JSON numbers no double holds (1e400 parses to Infinity, the other to
    // 1.00), refused before parsing, and broken JSON.
    const engine = a.socket.socket.io.engine;
    for (const amount of ['1e400', '0.999999999999999999999']) {
      engine.write(`2/user,["transfer",{"to_user_id":"${b.userId}","currency":"USD","amount":${amount}}]`);
      expect(await a.socket.waitFor('response', (r) => r.data.message.includes(amount))).toMatchObject({
        request_type: 'transfer',
        data: {
          code: 'VALIDATION_FAILED',
          field: 'amount',
          message: `amount: the number ${amount} cannot be represented exactly; send it as a decimal string`,
        },
      });
    }
    engine.write(`2/user,["transfer",{"amount":`);
    expect(await a.socket.waitFor('response', (r) => r.data.code === 'INVALID_REQUEST')).toMatchObject({
      type: 'error',
      data: { message: 'invalid request format' },
    });
    expect(a.socket.socket.connected).toBe(true);

    expect(await balanceOf(a, a.usd)).toMatchObject({ balance: usdBefore.balance, version: usdBefore.version });
    expect(await balanceOf(a, a.eur)).toMatchObject({ balance: eurBefore.balance, version: eurBefore.version });
    expect(await journalsBy(a)).toBe(journals);
    expect(frames(a)).toHaveLength(framesA);
    await ledgerCheck();
  });

  it('keeps admin endpoints from users (403) and anonymous callers (401)', async () => {
    const seqBefore = lastSeq(c);
    const adjustment = {
      user_id: c.userId,
      currency: 'USD',
      amount: '1000000',
      direction: 'credit',
      reason: 'self-service',
    };
    const calls = [
      () => api.post('/api/v1/admin/adjustments', adjustment, { token: c.accessToken }),
      () => api.get('/api/v1/admin/ledger/check', { token: c.accessToken }),
      () => api.post('/api/v1/admin/fx-rates', { base: 'USD', quote: 'EUR', rate: '100' }, { token: c.accessToken }),
    ];
    for (const call of calls) {
      const result = await call();
      expect(result.status).toBe(403);
      expect(result.body).toMatchObject({ status_code: 403, code: 'FORBIDDEN' });
    }
    expect((await api.post('/api/v1/admin/adjustments', adjustment)).status).toBe(401);
    expect((await api.get('/api/v1/admin/ledger/check')).status).toBe(401);

    // Admins get validation with the field at fault.
    const invalid = await api.post(
      '/api/v1/admin/adjustments',
      { ...adjustment, amount: '1.001' },
      { token: adminToken },
    );
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ code: 'VALIDATION_FAILED', data: { field: 'amount' } });
    const pastBigint = await api.post(
      '/api/v1/admin/adjustments',
      { ...adjustment, user_id: '9999999999999999999' },
      { token: adminToken },
    );
    expect(pastBigint.status).toBe(400);
    expect(pastBigint.body).toMatchObject({ code: 'VALIDATION_FAILED', data: { field: 'user_id' } });

    // C holds only the 1 USD B sent, and no rate moved.
    expect(await balanceOf(c, c.usd)).toMatchObject({ balance: 1, version: 1 });
    const rates = await api.get<{ rates: FxRate[] }>('/api/v1/fx-rates', { token: c.accessToken });
    expect(rates.body.rates.find((r) => r.base === 'USD' && r.quote === 'EUR')).toMatchObject({ rate: '0.925' });
    await sleep(100);
    expect(lastSeq(c)).toBe(seqBefore);
  });
});
