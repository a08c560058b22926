// `/cashier/svc/ws` (seed 000, contract section 7) against two API processes (A also runs the
// worker): seed 000's deposit and withdrawal flows exactly as written there, pushes across
// instances, replay with ?since=, malformed and oversized frames, refused handshakes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { signUpAndLogIn, type SignedIn } from '../helpers/factories.js';
import { client, type Client } from '../helpers/http.js';
import { codeFromMailbox } from '../helpers/mailbox.js';
import { openPlain, type PlainClient } from '../helpers/plain-ws.js';

const ADMIN = { email: 'plain-admin@example.com', password: 'plain admin password' };
let a: AppProcess;
let b: AppProcess;
let api: Client;
let adminToken: string;
const clients: PlainClient[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const wsUrl = (app: AppProcess, path: string) => `ws://127.0.0.1:${app.port}${path}`;

async function cashier(app: AppProcess, token: string, query = ''): Promise<PlainClient> {
  const plain = await openPlain(`${wsUrl(app, '/cashier/svc/ws')}${query}`, { authorization: `Bearer ${token}` });
  clients.push(plain);
  return plain;
}

async function fund(user: SignedIn, amount: string, currency = 'USD'): Promise<void> {
  const funded = await api.post(
    '/api/v1/admin/adjustments',
    { user_id: user.userId, currency, amount, direction: 'credit', reason: 'plain test funds' },
    { token: adminToken },
  );
  expect(funded.status, JSON.stringify(funded.body)).toBe(201);
}

beforeAll(async () => {
  const env = testEnv({
    REDIS_PREFIX: isolatedRedisPrefix(),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    SANDBOX_DELAY_MS: '200',
    WS_MAX_PAYLOAD: '8192',
    ALLOWED_ORIGINS: 'https://app.example.com',
  });
  [a, b] = await Promise.all([spawnApp({ env }), spawnApp({ env: { ...env, ROLE: 'api' } })]);
  api = client(a.url);
  adminToken = (await api.post('/api/v1/auth/login', ADMIN)).body.access_token;
});

afterAll(async () => {
  for (const plain of clients) plain.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('/cashier/svc/ws', () => {
  it('says connected, answers requests with request_type and id, and runs seed 000’s deposit flow', async () => {
    const user = await signUpAndLogIn(api);
    const plain = await cashier(b, user.accessToken);
    const connected = await plain.waitFor((f) => f.type === 'connected');
    expect(connected).toMatchObject({ type: 'connected', data: { user_id: user.userId, channel: user.channel } });
    expect(typeof connected.timestamp).toBe('number');

    const accounts = await plain.request('get_accounts', {});
    expect(accounts).toMatchObject({
      type: 'success',
      data: { message: expect.any(String), data: { as_of_seq: expect.any(Number) } },
      request_type: 'get_accounts',
    });

    // Seed 000, "Complete Deposit Flow", step 1 as written there (no id).
    plain.send({ type: 'deposit_request', data: { amount: 100.0, currency: 'USD', service: 'mpesa' } });
    const created = await plain.waitFor((f) => f.request_type === 'deposit_request');
    expect(created).toMatchObject({
      type: 'success',
      data: { message: 'deposit request created', data: { request_ref: expect.stringMatching(/^DEP-REQ-/) } },
    });
    // Step 2: the server pushes the completion when the partner confirms.
    const completed = await plain.waitFor((f) => f.type === 'deposit_completed', 15_000);
    expect(completed).toMatchObject({
      data: { transaction_ref: created.data.data.request_ref, amount: 100, currency: 'USD', user_balance: 99 },
      channel: user.channel,
      seq: expect.any(Number),
    });
  });

  it('runs seed 000’s withdrawal flow: OTP by e-mail, verify, withdraw, the completion pushed', async () => {
    const user = await signUpAndLogIn(api);
    await fund(user, '100.00');
    const plain = await cashier(a, user.accessToken);
    await plain.waitFor((f) => f.type === 'connected');
    plain.send({ type: 'verification_request', data: { method: 'otp_email', purpose: 'withdrawal' } });
    expect(await plain.waitFor((f) => f.request_type === 'verification_request')).toMatchObject({
      type: 'success',
      data: { data: { method: 'otp_email', next_step: 'verify_otp', expires_in: 180 } },
    });
    plain.send({ type: 'verify_otp', data: { code: await codeFromMailbox(api, user.email), purpose: 'withdrawal' } });
    const verified = await plain.waitFor((f) => f.request_type === 'verify_otp');
    expect(verified).toMatchObject({ type: 'success', data: { message: 'verification successful' } });
    plain.send({
      type: 'withdraw_request',
      data: {
        amount: 50.0,
        currency: 'USD',
        destination: '+254712345678',
        verification_token: verified.data.data.verification_token,
      },
    });
    expect(await plain.waitFor((f) => f.request_type === 'withdraw_request')).toMatchObject({
      type: 'success',
      data: { message: 'withdrawal request created and being processed', data: { status: 'processing' } },
    });
    const completed = await plain.waitFor((f) => f.type === 'withdrawal_completed', 15_000);
    expect(completed.data).toMatchObject({ receipt_code: expect.stringMatching(/^RCP-/), balance_after: 49 });
  });

  it('pushes a transfer made on the other instance, and replays exactly the missing seqs with ?since=', async () => {
    const [sender, receiver] = [await signUpAndLogIn(api), await signUpAndLogIn(api)];
    await fund(sender, '50.00');
    const listening = await cashier(b, receiver.accessToken);
    await listening.waitFor((f) => f.type === 'connected');
    const sending = await cashier(a, sender.accessToken);
    await sending.waitFor((f) => f.type === 'connected');
    const sent = await sending.request('transfer', { to_user_id: receiver.userId, amount: '10.00', currency: 'USD' });
    expect(sent).toMatchObject({ type: 'success', request_type: 'transfer' });
    const pushed = await listening.waitFor((f) => f.type === 'transfer_completed');
    expect(pushed).toMatchObject({ data: { amount: 10, currency: 'USD' }, channel: receiver.channel });
    const seqs = () => listening.frames.filter((f) => f.channel === receiver.channel).map((f) => f.seq);
    await sleep(200);
    const had = seqs();
    expect(had).toEqual(had.map((_, i) => i + 1));
    listening.close();

    for (let i = 0; i < 3; i += 1) {
      await sending.request('transfer', { to_user_id: receiver.userId, amount: '1.00', currency: 'USD' });
    }
    const resumed = await cashier(b, receiver.accessToken, `?since=${had.length}`);
    await resumed.waitFor((f) => f.type === 'transaction_completed' && f.seq === had.length + 9);
    await sleep(200);
    const replayed = resumed.frames.filter((f) => f.channel === receiver.channel).map((f) => f.seq);
    expect(replayed).toEqual(Array.from({ length: 9 }, (_, i) => had.length + i + 1));
  });

  it('follows a payment channel by subscribe, answers ping, and survives malformed frames', async () => {
    const user = await signUpAndLogIn(api);
    const plain = await cashier(a, user.accessToken);
    await plain.waitFor((f) => f.type === 'connected');
    expect(await plain.request('ping')).toMatchObject({ type: 'pong', timestamp: expect.any(Number) });
    const deposit = await plain.request('deposit_request', { amount: '5.00', currency: 'USD', service: 'mpesa' });
    const paymentId = deposit.data.data.payment_id as string;
    const subscribed = await plain.request('subscribe', { channel: paymentId, since: 0 });
    expect(subscribed).toMatchObject({ type: 'success', data: { data: { channel: paymentId } } });
    await plain.waitFor((f) => f.type === 'payment' && f.channel === paymentId);
    expect(await plain.request('subscribe', { channel: 'not-a-channel' })).toMatchObject({
      type: 'error',
      data: { code: 'SUBSCRIPTION_FAILED' },
    });

    for (const raw of ['not json', '[1,2]', 'null', '"text"', '{"type":']) {
      plain.sendRaw(raw);
      expect(
        await plain.waitFor((f) => f.type === 'error' && f.id === undefined && !f.seen && (f.seen = true)),
      ).toMatchObject({
        data: { code: 'INVALID_REQUEST', message: expect.stringMatching(/^invalid request format/) },
      });
    }
    plain.sendRaw(Buffer.from([1, 2, 3]));
    expect(
      await plain.waitFor((f) => f.type === 'error' && f.id === undefined && !f.seen && (f.seen = true)),
    ).toMatchObject({
      data: { code: 'INVALID_REQUEST', message: 'binary frames are not accepted' },
    });
    plain.sendRaw(`{"type":"transfer","data":{"amount":0.999999999999999999999},"id":"x"}`);
    expect(await plain.waitFor((f) => f.type === 'error' && f.data.code === 'VALIDATION_FAILED')).toMatchObject({
      data: { field: 'amount' },
    });
    expect(await plain.request('no_such_request', {})).toMatchObject({
      type: 'error',
      data: { code: 'INVALID_REQUEST' },
    });
    expect(await plain.request('get_accounts', {})).toMatchObject({ type: 'success' });
    // Over WS_MAX_PAYLOAD (8 KB here): closed with 1009.
    plain.sendRaw(JSON.stringify({ type: 'get_accounts', data: { pad: 'x'.repeat(10_000) } }));
    expect((await plain.closed).code).toBe(1009);
  });

  it('refuses a missing or bad token and a foreign origin before the upgrade, with the body of seed 001', async () => {
    for (const [headers, status] of [
      [{}, 401],
      [{ authorization: 'Bearer not-a-token' }, 401],
    ] as const) {
      const refused = await openPlain(wsUrl(a, '/cashier/svc/ws'), headers).catch((error: unknown) => error);
      expect(refused).toMatchObject({
        status,
        body: { status_code: status, message: expect.any(String), trace_id: expect.any(String), data: null },
      });
    }
    const user = await signUpAndLogIn(api);
    const foreign = await openPlain(wsUrl(a, '/cashier/svc/ws'), {
      authorization: `Bearer ${user.accessToken}`,
      origin: 'https://evil.example.com',
    }).catch((error: unknown) => error);
    expect(foreign).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    const allowed = await cashier(a, user.accessToken);
    await allowed.waitFor((f) => f.type === 'connected');
    // A browser may pass the token in the query string.
    const viaQuery = await openPlain(`${wsUrl(a, '/cashier/svc/ws')}?token=${user.accessToken}`);
    clients.push(viaQuery);
    await viaQuery.waitFor((f) => f.type === 'connected');
  });

  it('closes with 4003 on a forced logout and 4001 on logout, telling the client first', async () => {
    const user = await signUpAndLogIn(api);
    const plain = await cashier(b, user.accessToken);
    await plain.waitFor((f) => f.type === 'connected');
    await api.post(`/api/v1/admin/users/${user.userId}/force-logout`, {}, { token: adminToken });
    expect(await plain.waitFor((f) => f.type === 'force_logout')).toMatchObject({
      data: { reason: expect.any(String) },
    });
    expect((await plain.closed).code).toBe(4003);

    const other = await signUpAndLogIn(api);
    const second = await cashier(b, other.accessToken);
    await second.waitFor((f) => f.type === 'connected');
    await api.post('/api/v1/auth/logout', {}, { token: other.accessToken });
    expect((await second.closed).code).toBe(4001);
  });
});
