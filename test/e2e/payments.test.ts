// Deposits and withdrawals over the wire against the built service: an API process and a separate
// worker process (ROLE=worker), the sandbox partners answering through real signed webhooks.
// Seed 000's deposit and withdrawal flows, the payment channel, webhook signatures and repeats,
// agents, failures that give the money back, races, bad input, and a worker killed mid-payout.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/modules/partners/webhook-signature.js';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { countRows, withDb } from '../helpers/db.js';
import { signUpAndLogIn, uniqueEmail, type SignedIn } from '../helpers/factories.js';
import { client, type Client } from '../helpers/http.js';
import { codeFromMailbox } from '../helpers/mailbox.js';
import { connectUser, type TestSocket } from '../helpers/sockets.js';

const ADMIN = { email: 'payments-admin@example.com', password: 'payments admin password' };
const SECRET = 'payments-e2e-sandbox-webhook-secret';
const MPESA = 'PTN-MPESA';

interface Envelope<T = any> {
  type: 'success' | 'error';
  data: { message: string; data?: T; code?: string; field?: string };
  timestamp: number;
}

let api: AppProcess;
let worker: AppProcess;
let http: Client;
let adminToken: string;
const sockets: TestSocket[] = [];
const processes: AppProcess[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ask<T = any>(socket: TestSocket, type: string, data: unknown): Promise<Envelope<T>> {
  return (await socket.socket.timeout(10_000).emitWithAck(type, data)) as Envelope<T>;
}

type User = SignedIn & { socket: TestSocket };

async function userWithSocket(usd?: string): Promise<User> {
  const user = await signUpAndLogIn(http, uniqueEmail('pay'));
  if (usd) {
    const funded = await http.post(
      '/api/v1/admin/adjustments',
      { user_id: user.userId, currency: 'USD', amount: usd, direction: 'credit', reason: 'test funds' },
      { token: adminToken },
    );
    expect(funded.status, JSON.stringify(funded.body)).toBe(201);
  }
  const socket = await connectUser(api.url, { token: user.accessToken });
  sockets.push(socket);
  return { ...user, socket };
}

/** A verification token for a withdrawal, as verify_otp would issue it (the flow itself is tested once below). */
async function tokenFor(userId: string, binding: { amount?: bigint; currency?: string; destination?: string } = {}) {
  const token = randomBytes(32).toString('hex');
  await withDb((db) =>
    db.query(
      `INSERT INTO verification_tokens (token_hash, user_id, purpose, method, amount, currency, destination, created_at, expires_at)
       VALUES ($1, $2, 'withdrawal', 'otp_email', $3, $4, $5, now(), now() + interval '300 seconds')`,
      [
        createHash('sha256').update(token).digest(),
        userId,
        binding.amount?.toString() ?? null,
        binding.currency ?? null,
        binding.destination ?? null,
      ],
    ),
  );
  return token;
}

async function usdWallet(userId: string): Promise<{ balance: bigint; pending: bigint }> {
  return withDb(async (db) => {
    const { rows } = await db.query<{ balance: string; pending_debit: string }>(
      `SELECT balance, pending_debit FROM accounts WHERE owner_user_id = $1 AND currency = 'USD'`,
      [userId],
    );
    return { balance: BigInt(rows[0].balance), pending: BigInt(rows[0].pending_debit) };
  });
}

/** What the user's USD wallet expects to be credited (deposits in flight), as PostgreSQL prints it. */
async function usdIncoming(userId: string): Promise<string> {
  return withDb(
    async (db) =>
      (
        await db.query<{ pending_credit: string }>(
          `SELECT pending_credit FROM accounts WHERE owner_user_id = $1 AND currency = 'USD'`,
          [userId],
        )
      ).rows[0].pending_credit,
  );
}

async function accountBalance(kind: string, ref: string, currency = 'USD'): Promise<bigint> {
  return withDb(async (db) => {
    const { rows } = await db.query<{ balance: string }>(
      `SELECT balance FROM accounts WHERE kind = $1 AND system_ref = $2 AND currency = $3`,
      [kind, ref, currency],
    );
    return BigInt(rows[0].balance);
  });
}

async function statusOf(table: 'deposits' | 'withdrawals', requestRef: string): Promise<string> {
  return withDb(
    async (db) => (await db.query(`SELECT status FROM ${table} WHERE request_ref = $1`, [requestRef])).rows[0].status,
  );
}

/** Posts a partner webhook signed with `secret` (or a forged header). */
async function webhook(
  body: Record<string, unknown>,
  options: { secret?: string; t?: number; header?: string; raw?: string; partner?: string; url?: string } = {},
) {
  const raw = options.raw ?? JSON.stringify(body);
  const t = options.t ?? Math.floor(Date.now() / 1000);
  const signature = options.header ?? signWebhook(options.secret ?? SECRET, t, raw);
  const response = await fetch(`${options.url ?? api.url}/api/v1/webhooks/partners/${options.partner ?? MPESA}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': signature },
    body: raw,
  });
  return { status: response.status, body: (await response.json()) as any };
}

const eventOf = (ref: string, type: string, amount: string, extra: Record<string, unknown> = {}) => ({
  event_id: randomBytes(8).toString('hex'),
  type,
  request_ref: ref,
  partner_reference: `SBX-${ref}`,
  amount,
  currency: 'USD',
  ...extra,
});

function baseEnv(extra: Record<string, string> = {}) {
  return testEnv({
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    SANDBOX_WEBHOOK_SECRET: SECRET,
    PAYMENT_JOB_ATTEMPTS: '3',
    PAYMENT_JOB_BACKOFF_MS: '200',
    JOB_LOCK_MS: '1500',
    ...extra,
  });
}

/**
 * An API and a worker of their own (their own Redis bus) whose sandbox partners take 10 minutes to
 * answer, so a deposit stays open until the test ends it; a user of it with a socket.
 */
async function silentPartners(emailTag: string) {
  const env = baseEnv({ REDIS_PREFIX: isolatedRedisPrefix(), SANDBOX_DELAY_MS: '600000' });
  const groupApi = await spawnApp({ env: { ...env, ROLE: 'api' } });
  processes.push(groupApi);
  processes.push(await spawnApp({ env: { ...env, SANDBOX_URL: groupApi.url }, entry: 'worker' }));
  const user = await signUpAndLogIn(client(groupApi.url), uniqueEmail(emailTag));
  const socket = await connectUser(groupApi.url, { token: user.accessToken });
  sockets.push(socket);
  return { groupApi, user, socket };
}

beforeAll(async () => {
  const env = baseEnv({ REDIS_PREFIX: isolatedRedisPrefix(), SANDBOX_DELAY_MS: '300' });
  api = await spawnApp({ env: { ...env, ROLE: 'api' } });
  worker = await spawnApp({ env: { ...env, SANDBOX_URL: api.url }, entry: 'worker' });
  processes.push(api, worker);
  http = client(api.url);
  adminToken = (await http.post('/api/v1/auth/login', ADMIN)).body.access_token;
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await Promise.all(processes.map((p) => p.stop()));
});

describe('deposits', () => {
  it('runs seed 000’s deposit flow: request, partner, webhook, deposit_completed, payment channel, status, history', async () => {
    const user = await userWithSocket();
    const reply = await ask(user.socket, 'deposit_request', { amount: 100.0, currency: 'USD', service: 'mpesa' });
    expect(reply).toEqual({
      type: 'success',
      data: {
        message: 'deposit request created',
        data: {
          request_ref: expect.stringMatching(/^DEP-REQ-\d{8}-\d{3,}$/),
          payment_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          partner_id: MPESA,
          partner_name: 'M-Pesa Sandbox',
          amount: 100,
          fee: 1,
          currency: 'USD',
          status: 'pending',
          expires_at: expect.any(String),
          created_at: expect.any(String),
        },
      },
      timestamp: expect.any(Number),
    });
    const { request_ref: ref, payment_id: paymentId } = reply.data.data;
    const joined: unknown = await user.socket.socket
      .timeout(5000)
      .emitWithAck('channel', { channel: paymentId, since: 0 });
    expect(joined).toMatchObject({ ok: true, channel: paymentId });

    const completed = await user.socket.waitFor(
      'stream',
      (f) => f.event === 'deposit_completed' && f.payload.transaction_ref === ref,
      10_000,
    );
    expect(completed.payload).toMatchObject({
      transaction_ref: ref,
      receipt_code: expect.stringMatching(/^RCP-\d{4}-\d+$/),
      amount: 100,
      currency: 'USD',
      user_balance: 99,
      fee_amount: 1,
      completed_at: expect.any(Number),
    });
    await user.socket.waitFor(
      'stream',
      (f) => f.event === 'transaction_completed' && f.payload.transaction_type === 'deposit',
    );
    await user.socket.waitFor('stream', (f) => f.event === 'balance' && f.payload.balance === 99);
    await user.socket.waitFor('stream', (f) => f.channel === paymentId && f.payload.status === 'completed');
    const payments = user.socket.frames().filter((f) => f.channel === paymentId);
    expect(payments.map((f) => f.seq)).toEqual(payments.map((_, i) => i + 1));

    const status = await ask(user.socket, 'get_deposit_status', { request_ref: ref });
    expect(status.data).toMatchObject({
      message: 'deposit status',
      data: {
        request_ref: ref,
        status: 'completed',
        amount: 100,
        currency: 'USD',
        receipt_code: completed.payload.receipt_code,
      },
    });
    const history = await ask(user.socket, 'get_history', { type: 'all', limit: 20, offset: 0 });
    expect(history.data.message).toBe('transaction history');
    expect(history.data.data).toMatchObject({ deposits: [{ request_ref: ref, status: 'completed' }], withdrawals: [] });
    expect(history.data.data.as_of_seq).toBeGreaterThan(0);
    expect((await usdWallet(user.userId)).balance).toBe(9900n);
  });

  it('pushes a webhook to the client fast: median webhook → deposit_completed under 100 ms', async () => {
    const user = await userWithSocket();
    const latencies: number[] = [];
    for (let i = 0; i < 15; i++) {
      const reply = await ask(user.socket, 'deposit_request', { amount: '10.00', currency: 'USD', service: 'mpesa' });
      const ref = reply.data.data.request_ref as string;
      const arrived = user.socket.waitFor(
        'stream',
        (f) => f.event === 'deposit_completed' && f.payload.transaction_ref === ref,
      );
      const sent = performance.now();
      expect((await webhook(eventOf(ref, 'deposit.completed', '10.00'))).status).toBe(200);
      await arrived;
      latencies.push(performance.now() - sent);
    }
    latencies.sort((a, b) => a - b);
    const median = latencies[Math.floor(latencies.length / 2)];
    console.log(`webhook → client receipt: median ${median.toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`);
    expect(median).toBeLessThan(100);
  });

  it('credits a completed webhook delivered 20 times at once exactly once; a later failed one changes nothing', async () => {
    const user = await userWithSocket();
    const reply = await ask(user.socket, 'deposit_request', { amount: '50.00', currency: 'USD', service: 'mpesa' });
    const ref = reply.data.data.request_ref as string;
    const event = eventOf(ref, 'deposit.completed', '50.00');
    const results = await Promise.all(Array.from({ length: 20 }, () => webhook(event)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(results.filter((r) => r.body.outcome === 'applied')).toHaveLength(1);
    expect((await usdWallet(user.userId)).balance).toBe(4950n);

    const late = await webhook(eventOf(ref, 'deposit.failed', '50.00', { error: 'Payment timeout' }));
    expect(late).toMatchObject({ status: 200, body: { outcome: 'ignored' } });
    expect(await statusOf('deposits', ref)).toBe('completed');
    expect((await usdWallet(user.userId)).balance).toBe(4950n);
    expect(await countRows('journals', `metadata->>'request_ref' = $1`, [ref])).toBe(1);
  });

  it('refuses forged, wrongly keyed, modified and stale webhooks with 401, and changes nothing', async () => {
    const user = await userWithSocket();
    // 20.13: the sandbox partner itself fails this one, so no completion can come from elsewhere.
    const reply = await ask(user.socket, 'deposit_request', { amount: '20.13', currency: 'USD', service: 'paypal' });
    const ref = reply.data.data.request_ref as string;
    const event = eventOf(ref, 'deposit.completed', '20.13');
    const raw = JSON.stringify(event);
    const now = Math.floor(Date.now() / 1000);
    const refusals = [
      await webhook(event, { partner: 'PTN-PAYPAL', header: `t=${now},v1=${'ab'.repeat(32)}` }),
      await webhook(event, { partner: 'PTN-PAYPAL', secret: 'another-secret-of-enough-length' }),
      await webhook(event, {
        partner: 'PTN-PAYPAL',
        raw: raw.replace('20.13', '2000.13'),
        header: signWebhook(SECRET, now, raw),
      }),
      await webhook(event, { partner: 'PTN-PAYPAL', t: now - 301 }),
      await webhook(event, { partner: 'PTN-PAYPAL', header: 'nonsense' }),
      await webhook(event, { partner: 'PTN-NOBODY' }),
    ];
    for (const refused of refusals) {
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ status_code: 401, code: 'UNAUTHORIZED' });
    }
    expect(await countRows('webhook_events', `payload->>'event_id' = $1`, [event.event_id])).toBe(0);
    expect(await statusOf('deposits', ref)).not.toBe('completed');
    expect((await usdWallet(user.userId)).balance).toBe(0n);
  });

  it('cancel_deposit racing the completion webhook ends in exactly one final state', async () => {
    for (let round = 0; round < 5; round++) {
      const user = await userWithSocket();
      const reply = await ask(user.socket, 'deposit_request', { amount: '30.00', currency: 'USD', service: 'mpesa' });
      const ref = reply.data.data.request_ref as string;
      const [cancel, hook] = await Promise.all([
        ask(user.socket, 'cancel_deposit', { request_ref: ref }),
        webhook(eventOf(ref, 'deposit.completed', '30.00')),
      ]);
      const status = await statusOf('deposits', ref);
      const balance = (await usdWallet(user.userId)).balance;
      if (status === 'cancelled') {
        expect(cancel).toMatchObject({ type: 'success', data: { message: 'deposit cancelled', data: null } });
        expect(hook.body.outcome).toBe('ignored');
        expect(balance).toBe(0n);
      } else {
        expect(status).toBe('completed');
        expect(cancel).toMatchObject({ type: 'error', data: { code: 'PAYMENT_NOT_CANCELLABLE' } });
        expect(balance).toBe(2970n);
      }
    }
  });

  it('fails a deposit the partner times out (cents 13) with deposit_failed and transaction_failed', async () => {
    const user = await userWithSocket();
    const reply = await ask(user.socket, 'deposit_request', { amount: '100.13', currency: 'USD', service: 'mpesa' });
    const ref = reply.data.data.request_ref as string;
    const failed = await user.socket.waitFor(
      'stream',
      (f) => f.event === 'deposit_failed' && f.payload.transaction_ref === ref,
      10_000,
    );
    expect(failed.payload).toMatchObject({ amount: 100.13, currency: 'USD', error_message: 'Payment timeout' });
    await user.socket.waitFor(
      'stream',
      (f) => f.event === 'transaction_failed' && f.payload.transaction_type === 'deposit',
    );
    expect(await statusOf('deposits', ref)).toBe('failed');
    expect((await usdWallet(user.userId)).balance).toBe(0n);
  });

  it('replays a deposit_request with the same idempotency key; refuses the key with another body', async () => {
    const user = await userWithSocket();
    const body = { amount: '12.00', currency: 'USD', service: 'bank_transfer', idempotency_key: 'dep-key-1' };
    const [first, second] = [
      await ask(user.socket, 'deposit_request', body),
      await ask(user.socket, 'deposit_request', body),
    ];
    expect(first.type).toBe('success');
    expect(second).toEqual({ ...first, timestamp: expect.any(Number) });
    expect(await countRows('deposits', 'user_id = $1', [user.userId])).toBe(1);
    const conflict = await ask(user.socket, 'deposit_request', { ...body, amount: '13.00' });
    expect(conflict.data).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', field: 'idempotency_key' });
    expect(await countRows('deposits', 'user_id = $1', [user.userId])).toBe(1);
  });

  it('refuses bad deposit requests with their codes and creates nothing', async () => {
    const user = await userWithSocket();
    const before = await countRows('deposits');
    const cases: [Record<string, unknown>, string, string][] = [
      [{ amount: 10, currency: 'USD', service: 'carrier_pigeon' }, 'UNSUPPORTED_SERVICE', 'service'],
      [{ amount: 10, currency: 'BTC', service: 'mpesa' }, 'UNSUPPORTED_CURRENCY', 'currency'],
      [{ amount: '10.001', currency: 'USD', service: 'mpesa' }, 'VALIDATION_FAILED', 'amount'],
      [{ amount: -5, currency: 'USD', service: 'mpesa' }, 'VALIDATION_FAILED', 'amount'],
      [{ amount: '1e3', currency: 'USD', service: 'mpesa' }, 'VALIDATION_FAILED', 'amount'],
      [
        { amount: 10, currency: 'USD', service: 'mpesa', partner_id: 'PTN-PAYPAL' },
        'PARTNER_SERVICE_MISMATCH',
        'partner_id',
      ],
      [{ amount: 10, currency: 'USD', service: 'mpesa', surprise: true }, 'VALIDATION_FAILED', 'surprise'],
      [{ currency: 'USD', service: 'mpesa' }, 'VALIDATION_FAILED', 'amount'],
    ];
    for (const [data, code, field] of cases) {
      const reply = await ask(user.socket, 'deposit_request', data);
      expect(reply.type, JSON.stringify(data)).toBe('error');
      expect(reply.data, JSON.stringify(data)).toMatchObject({ code, field });
    }
    expect(await countRows('deposits')).toBe(before);
  });
});

describe('withdrawals', () => {
  it('runs seed 000’s withdrawal flow: OTP by e-mail, verify, withdraw_request, withdrawal_completed', async () => {
    const user = await userWithSocket('100.00');
    await ask(user.socket, 'verification_request', { method: 'otp_email', purpose: 'withdrawal' });
    const code = await codeFromMailbox(http, user.email);
    const verified = await ask(user.socket, 'verify_otp', { code, purpose: 'withdrawal' });
    const token = verified.data.data.verification_token as string;

    const reply = await ask(user.socket, 'withdraw_request', {
      amount: 50.0,
      currency: 'USD',
      destination: '+254712345678',
      verification_token: token,
    });
    expect(reply).toMatchObject({
      type: 'success',
      data: {
        message: 'withdrawal request created and being processed',
        data: {
          request_ref: expect.stringMatching(/^WDL-REQ-\d{8}-\d{3,}$/),
          amount: 50,
          fee: 1,
          currency: 'USD',
          destination: '+254712345678',
          status: 'processing',
          withdrawal_type: 'direct',
          created_at: expect.any(Number),
        },
      },
    });
    const ref = reply.data.data.request_ref as string;
    expect(await usdWallet(user.userId)).toEqual({ balance: 10000n, pending: 5100n });
    const completed = await user.socket.waitFor(
      'stream',
      (f) => f.event === 'withdrawal_completed' && f.payload.request_ref === ref,
      10_000,
    );
    expect(completed.payload).toMatchObject({ receipt_code: expect.stringMatching(/^RCP-/), balance_after: 49 });
    expect(await usdWallet(user.userId)).toEqual({ balance: 4900n, pending: 0n });
    const again = await ask(user.socket, 'withdraw_request', {
      amount: 10,
      currency: 'USD',
      destination: '+254712345678',
      verification_token: token,
    });
    expect(again).toMatchObject({
      type: 'error',
      data: { code: 'VERIFICATION_INVALID', message: 'invalid or expired verification token.  Please verify again.' },
    });
  });

  it('pays an agent the amount and its 75 % commission of the fee', async () => {
    const user = await userWithSocket('100.00');
    const agentBefore = await accountBalance('agent', 'AGT-123');
    const reply = await ask(user.socket, 'withdraw_request', {
      amount: '50.00',
      currency: 'USD',
      destination: '+254712345678',
      agent_id: 'AGT-123',
      verification_token: await tokenFor(user.userId),
    });
    expect(reply.data.data).toMatchObject({
      withdrawal_type: 'agent_assisted',
      agent_id: 'AGT-123',
      agent_name: "John's Agent Shop",
      agent_account: expect.stringMatching(/^ACC-AGENT-USD-\d+$/),
      agent_commission: 0.75,
    });
    const completed = await user.socket.waitFor('stream', (f) => f.event === 'withdrawal_completed', 10_000);
    expect(completed.payload).toMatchObject({
      agent_id: 'AGT-123',
      agent_name: "John's Agent Shop",
      fee_amount: 1,
      agent_commission: 0.75,
    });
    expect(await accountBalance('agent', 'AGT-123')).toBe(agentBefore + 5075n);
    expect(await usdWallet(user.userId)).toEqual({ balance: 4900n, pending: 0n });
  });

  it('releases the hold of a payout that fails (cents 13) and pushes withdrawal_failed', async () => {
    const user = await userWithSocket('100.00');
    const reply = await ask(user.socket, 'withdraw_request', {
      amount: '20.13',
      currency: 'USD',
      destination: 'someone@example.com',
      service: 'paypal',
      verification_token: await tokenFor(user.userId, { amount: 2013n, currency: 'USD' }),
    });
    expect(reply.type, JSON.stringify(reply)).toBe('success');
    const failed = await user.socket.waitFor('stream', (f) => f.event === 'withdrawal_failed', 10_000);
    expect(failed.payload).toMatchObject({ request_ref: reply.data.data.request_ref, error: 'Payment timeout' });
    await user.socket.waitFor(
      'stream',
      (f) => f.event === 'transaction_failed' && f.payload.transaction_type === 'withdrawal',
    );
    expect(await usdWallet(user.userId)).toEqual({ balance: 10000n, pending: 0n });
  });

  it('holds and pays exactly the 7 of 20 concurrent withdrawals the balance affords', async () => {
    // 7 × (10.00 + 0.20 fee) = 71.40
    const user = await userWithSocket('71.40');
    const tokens = await Promise.all(Array.from({ length: 20 }, () => tokenFor(user.userId)));
    const replies = await Promise.all(
      tokens.map((token) =>
        ask(user.socket, 'withdraw_request', {
          amount: 10,
          currency: 'USD',
          destination: '+254700000000',
          verification_token: token,
        }),
      ),
    );
    const ok = replies.filter((r) => r.type === 'success');
    expect(ok).toHaveLength(7);
    for (const refused of replies.filter((r) => r.type === 'error')) {
      expect(refused.data.code).toBe('INSUFFICIENT_BALANCE');
    }
    const deadline = Date.now() + 15_000;
    while ((await countRows('withdrawals', `user_id = $1 AND status = 'completed'`, [user.userId])) < 7) {
      if (Date.now() > deadline) throw new Error('the 7 payouts did not complete');
      await sleep(200);
    }
    expect(await countRows('withdrawals', 'user_id = $1', [user.userId])).toBe(7);
    expect(await usdWallet(user.userId)).toEqual({ balance: 0n, pending: 0n });
    // The 13 refused left their tokens unspent.
    expect(await countRows('verification_tokens', 'user_id = $1 AND consumed_at IS NULL', [user.userId])).toBe(13);
  });

  it('replays a withdraw_request with the same idempotency key: one withdrawal, one hold, one token spent', async () => {
    const user = await userWithSocket('100.00');
    const body = {
      amount: '10.00',
      currency: 'USD',
      destination: '+254744444444',
      verification_token: await tokenFor(user.userId),
      idempotency_key: 'wdl-key-1',
    };
    const replies = await Promise.all([1, 2, 3].map(() => ask(user.socket, 'withdraw_request', body)));
    expect(replies.map((r) => r.type)).toEqual(['success', 'success', 'success']);
    expect(new Set(replies.map((r) => r.data.data.request_ref)).size).toBe(1);
    expect(await countRows('withdrawals', 'user_id = $1', [user.userId])).toBe(1);
    const conflict = await ask(user.socket, 'withdraw_request', { ...body, amount: '11.00' });
    expect(conflict.data).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
    await user.socket.waitFor('stream', (f) => f.event === 'withdrawal_completed', 10_000);
    expect(await usdWallet(user.userId)).toEqual({ balance: 10000n - 1020n, pending: 0n });
  });

  it('refuses bad withdrawals with their codes: nothing held, nothing enqueued', async () => {
    const user = await userWithSocket('100.00');
    const token = await tokenFor(user.userId, { amount: 1000n, currency: 'USD', destination: '+254711111111' });
    const base = { amount: '10.00', currency: 'USD', destination: '+254711111111' };
    const cases: [Record<string, unknown>, string, string | undefined, string?][] = [
      [
        base,
        'VERIFICATION_REQUIRED',
        undefined,
        'verification_token is required.  Please complete verification first.',
      ],
      [{ ...base, verification_token: 'nope' }, 'VERIFICATION_INVALID', undefined],
      [{ ...base, amount: '11.00', verification_token: token }, 'VERIFICATION_INVALID', undefined],
      [{ ...base, amount: '10.001', verification_token: token }, 'VALIDATION_FAILED', 'amount'],
      [{ ...base, amount: -10, verification_token: token }, 'VALIDATION_FAILED', 'amount'],
      [{ ...base, destination: '   ', verification_token: token }, 'VALIDATION_FAILED', 'destination'],
      [{ ...base, destination: 'x'.repeat(129), verification_token: token }, 'VALIDATION_FAILED', 'destination'],
      [{ ...base, service: 'carrier_pigeon', verification_token: token }, 'UNSUPPORTED_SERVICE', 'service'],
      [{ ...base, currency: 'BTC', amount: '1', verification_token: token }, 'VERIFICATION_INVALID', undefined],
      [{ ...base, agent_id: 'AGT-999', verification_token: token }, 'VALIDATION_FAILED', 'agent_id'],
      [
        { ...base, amount: '1000.00', verification_token: await tokenFor(user.userId) },
        'INSUFFICIENT_BALANCE',
        undefined,
      ],
    ];
    for (const [data, code, field, message] of cases) {
      const reply = await ask(user.socket, 'withdraw_request', data);
      expect(reply.type, JSON.stringify(data)).toBe('error');
      expect(reply.data.code, JSON.stringify(reply)).toBe(code);
      if (field) expect(reply.data.field).toBe(field);
      if (message) expect(reply.data.message).toBe(message);
    }
    expect(await countRows('withdrawals', 'user_id = $1', [user.userId])).toBe(0);
    expect(await usdWallet(user.userId)).toEqual({ balance: 10000n, pending: 0n });
    expect(await countRows('verification_tokens', 'user_id = $1 AND consumed_at IS NOT NULL', [user.userId])).toBe(0);
  });
});

describe('a worker killed in the middle of a payout', () => {
  it('leaves the job to another worker, and the money moves exactly once', async () => {
    // A group of its own (its queue must not be served by the main worker), with a partner
    // endpoint that never answers the first payout: the worker is killed while waiting on it.
    let calls = 0;
    let hung!: () => void;
    const hungRequest = new Promise<void>((resolve) => (hung = resolve));
    const slowPartner: Server = createServer((_req, res) => {
      calls += 1;
      if (calls === 1) {
        hung();
        return; // never answered
      }
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => slowPartner.listen(0, '127.0.0.1', resolve));
    const slowUrl = `http://127.0.0.1:${(slowPartner.address() as AddressInfo).port}`;
    const env = baseEnv({ REDIS_PREFIX: isolatedRedisPrefix(), SANDBOX_DELAY_MS: '100' });
    const groupApi = await spawnApp({ env: { ...env, ROLE: 'api' } });
    processes.push(groupApi);
    const doomed = await spawnApp({ env: { ...env, SANDBOX_URL: slowUrl }, entry: 'worker' });
    processes.push(doomed);
    try {
      const groupHttp = client(groupApi.url);
      const user = await signUpAndLogIn(groupHttp, uniqueEmail('kill'));
      await groupHttp.post(
        '/api/v1/admin/adjustments',
        { user_id: user.userId, currency: 'USD', amount: '100.00', direction: 'credit', reason: 'test funds' },
        { token: (await groupHttp.post('/api/v1/auth/login', ADMIN)).body.access_token },
      );
      const socket = await connectUser(groupApi.url, { token: user.accessToken });
      sockets.push(socket);
      const reply = await ask(socket, 'withdraw_request', {
        amount: '40.00',
        currency: 'USD',
        destination: '+254722222222',
        verification_token: await tokenFor(user.userId),
      });
      expect(reply.type, JSON.stringify(reply)).toBe('success');
      const ref = reply.data.data.request_ref as string;
      await hungRequest;
      expect(await doomed.stop('SIGKILL')).toBeNull();
      expect(await statusOf('withdrawals', ref)).toBe('processing');

      const rescuer = await spawnApp({ env: { ...env, SANDBOX_URL: groupApi.url }, entry: 'worker' });
      processes.push(rescuer);
      await socket.waitFor(
        'stream',
        (f) => f.event === 'withdrawal_completed' && f.payload.request_ref === ref,
        30_000,
      );
      await sleep(1000); // room for a second, wrong settlement to show up
      expect(await statusOf('withdrawals', ref)).toBe('completed');
      expect(await countRows('journals', `metadata->>'request_ref' = $1`, [ref])).toBe(1);
      expect(await usdWallet(user.userId)).toEqual({ balance: 10000n - 4080n, pending: 0n });
    } finally {
      slowPartner.closeAllConnections();
      slowPartner.close();
    }
  }, 60_000);
});

describe('a partner that cannot be reached', () => {
  it('fails the payment cleanly after the last attempt: hold released, events pushed, visible to admins', async () => {
    const down: Server = createServer((_req, res) => res.writeHead(503).end());
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const env = baseEnv({ REDIS_PREFIX: isolatedRedisPrefix() });
    const groupApi = await spawnApp({ env: { ...env, ROLE: 'api' } });
    processes.push(groupApi);
    const groupWorker = await spawnApp({
      env: { ...env, SANDBOX_URL: `http://127.0.0.1:${(down.address() as AddressInfo).port}` },
      entry: 'worker',
    });
    processes.push(groupWorker);
    try {
      const groupHttp = client(groupApi.url);
      const admin = (await groupHttp.post('/api/v1/auth/login', ADMIN)).body.access_token as string;
      const user = await signUpAndLogIn(groupHttp, uniqueEmail('down'));
      await groupHttp.post(
        '/api/v1/admin/adjustments',
        { user_id: user.userId, currency: 'USD', amount: '100.00', direction: 'credit', reason: 'test funds' },
        { token: admin },
      );
      const socket = await connectUser(groupApi.url, { token: user.accessToken });
      sockets.push(socket);
      const withdrawal = await ask(socket, 'withdraw_request', {
        amount: '30.00',
        currency: 'USD',
        destination: '+254733333333',
        verification_token: await tokenFor(user.userId),
      });
      const deposit = await ask(socket, 'deposit_request', { amount: '25.00', currency: 'USD', service: 'mpesa' });
      expect(await usdWallet(user.userId)).toEqual({ balance: 10000n, pending: 3060n });
      expect(await usdIncoming(user.userId)).toBe('2475');

      const failed = await socket.waitFor('stream', (f) => f.event === 'withdrawal_failed', 15_000);
      expect(failed.payload).toMatchObject({
        request_ref: withdrawal.data.data.request_ref,
        error: expect.stringContaining('partner unreachable'),
      });
      await socket.waitFor('stream', (f) => f.event === 'deposit_failed', 15_000);
      expect(await usdWallet(user.userId)).toEqual({ balance: 10000n, pending: 0n });
      expect(await usdIncoming(user.userId)).toBe('0');

      const listed = await groupHttp.get('/api/v1/admin/payments?status=failed', { token: admin });
      expect(listed.status).toBe(200);
      expect(listed.body.withdrawals).toContainEqual(
        expect.objectContaining({
          request_ref: withdrawal.data.data.request_ref,
          user_id: user.userId,
          status: 'failed',
        }),
      );
      expect(listed.body.deposits).toContainEqual(
        expect.objectContaining({ request_ref: deposit.data.data.request_ref, status: 'failed' }),
      );
      expect((await groupHttp.get('/api/v1/admin/payments', { token: user.accessToken })).status).toBe(403);
    } finally {
      down.close();
    }
  }, 60_000);
});

describe('a deposit its partner never answers', () => {
  it('expires past expires_at: status expired, deposit_failed and transaction_failed announced, no money', async () => {
    // Every worker sweeps the shared test database, and each announces on its own group's Redis
    // bus, so this test reads what was announced from the outbox rather than from a socket.
    const { user, socket } = await silentPartners('expiry');
    const reply = await ask(socket, 'deposit_request', { amount: '40.00', currency: 'USD', service: 'mpesa' });
    const { request_ref: ref, payment_id: paymentId } = reply.data.data as { request_ref: string; payment_id: string };
    const deadline = Date.now() + 10_000;
    while ((await statusOf('deposits', ref)) !== 'sent_to_partner') {
      if (Date.now() > deadline) throw new Error('the deposit was not sent to its partner');
      await sleep(100);
    }
    await withDb((db) =>
      db.query(`UPDATE deposits SET expires_at = now() - interval '1 second' WHERE request_ref = $1`, [ref]),
    );
    const expiry = Date.now() + 20_000;
    while ((await statusOf('deposits', ref)) !== 'expired') {
      if (Date.now() > expiry) throw new Error('the deposit did not expire');
      await sleep(250);
    }
    const announced = await withDb(
      async (db) =>
        (
          await db.query<{ channel: string; event: string; payload: any }>(
            `SELECT channel, event, payload FROM outbox_events WHERE channel IN ($1, $2) ORDER BY channel, seq`,
            [user.channel, paymentId],
          )
        ).rows,
    );
    // The deposit announced its credit on the wallet (pending_credit) and the expiry withdrew it.
    expect(announced.filter((e) => e.channel === user.channel)).toEqual([
      expect.objectContaining({
        event: 'balance',
        payload: expect.objectContaining({ balance: 0, pending_credit: 39.6, pending_debit: 0, version: 1 }),
      }),
      expect.objectContaining({
        event: 'balance',
        payload: expect.objectContaining({ balance: 0, pending_credit: 0, pending_debit: 0, version: 2 }),
      }),
      expect.objectContaining({
        event: 'deposit_failed',
        payload: expect.objectContaining({ transaction_ref: ref, status: 'expired', error_message: 'Deposit expired' }),
      }),
      expect.objectContaining({
        event: 'transaction_failed',
        payload: expect.objectContaining({ error: 'Deposit expired' }),
      }),
    ]);
    expect(announced.filter((e) => e.channel === paymentId).map((e) => e.payload.status)).toEqual([
      'pending',
      'sent_to_partner',
      'expired',
    ]);
    expect(await countRows('accounts', `owner_user_id = $1 AND balance <> 0`, [user.userId])).toBe(0);
    expect((await ask(socket, 'cancel_deposit', { request_ref: ref })).data).toMatchObject({
      code: 'PAYMENT_NOT_CANCELLABLE',
    });
  }, 60_000);
});

describe('deposits in flight', () => {
  it('show as pending_credit from the request until they end: 30 at once, then completed, failed and cancelled at once, exact', async () => {
    const { groupApi, user, socket } = await silentPartners('inflight');
    const wallet = () =>
      withDb(async (db) => {
        const { rows } = await db.query<{ balance: string; pending_debit: string; pending_credit: string }>(
          `SELECT balance, pending_debit, pending_credit FROM accounts WHERE owner_user_id = $1 AND currency = 'USD'`,
          [user.userId],
        );
        return rows.map((r) => ({
          balance: BigInt(r.balance),
          debit: BigInt(r.pending_debit),
          credit: BigInt(r.pending_credit),
        }));
      });

    const amounts = Array.from({ length: 30 }, (_, i) => `${10 + i}.${String(i * 3).padStart(2, '0')}`);
    const replies = await Promise.all(
      amounts.map((amount) => ask(socket, 'deposit_request', { amount, currency: 'USD', service: 'mpesa' })),
    );
    expect(replies.map((r) => r.type)).toEqual(Array(30).fill('success'));
    const cents = (n: number) => BigInt(Math.round(n * 100));
    const credited = replies.map((r) => cents(r.data.data.amount) - cents(r.data.data.fee));
    const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);
    // One wallet, opened by the first; every deposit's credit announced on it, nothing available yet.
    expect(await wallet()).toEqual([{ balance: 0n, debit: 0n, credit: sum(credited) }]);
    const accounts = await ask(socket, 'get_accounts', {});
    expect(accounts.data.data.accounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          currency: 'USD',
          balance: 0,
          available_balance: 0,
          pending_credit: Number(sum(credited)) / 100,
        }),
      ]),
    );

    // A third completed by the partner, a third failed by it, a third cancelled by the user, all at once.
    const refs = replies.map((r) => r.data.data.request_ref as string);
    const outcomes = await Promise.all(
      refs.map((ref, i) => {
        if (i % 3 === 0) return webhook(eventOf(ref, 'deposit.completed', amounts[i]), { url: groupApi.url });
        if (i % 3 === 1) {
          return webhook(eventOf(ref, 'deposit.failed', amounts[i], { error: 'Declined' }), { url: groupApi.url });
        }
        return ask(socket, 'cancel_deposit', { request_ref: ref });
      }),
    );
    expect(outcomes.map((o) => ('status' in o ? o.body.outcome : o.type))).toEqual(
      refs.map((_, i) => (i % 3 === 2 ? 'success' : 'applied')),
    );
    const completed = sum(credited.filter((_, i) => i % 3 === 0));
    expect(await wallet()).toEqual([{ balance: completed, debit: 0n, credit: 0n }]);
    const holds = `account_id IN (SELECT id FROM accounts WHERE owner_user_id = $1) AND direction = 'CR'`;
    expect(await countRows('holds', holds, [user.userId])).toBe(30);
    expect(await countRows('holds', `${holds} AND status = 'held'`, [user.userId])).toBe(0);

    // The stream said it as it happened: the last balance event shows what the wallet holds now.
    const last = await socket.waitFor(
      'stream',
      (f) => f.event === 'balance' && f.payload.pending_credit === 0 && f.payload.balance === Number(completed) / 100,
      10_000,
    );
    expect(last.payload).toMatchObject({ pending_debit: 0, available_balance: Number(completed) / 100 });
  }, 60_000);
});
