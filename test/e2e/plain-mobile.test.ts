// `/api/v1/ws` (seed 001, contract section 7) against two API processes (A also runs the worker),
// with raw `ws` clients sending seed 001's frames as written there: logical channels and their
// events (settings, notifications, payments, KYC), payment ids, one connection per user across
// instances, refusals before the upgrade, session control, and frames the endpoint does not take.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { signUpAndLogIn, type SignedIn } from '../helpers/factories.js';
import { client, type Client } from '../helpers/http.js';
import { decodeJwt, signJwt } from '../helpers/jwt.js';
import { openPlain, type PlainClient } from '../helpers/plain-ws.js';
import { connectUser, type TestSocket } from '../helpers/sockets.js';

const ADMIN = { email: 'mobile-admin@example.com', password: 'mobile admin password' };
const ORIGIN = 'https://app.example.com';
let a: AppProcess;
let b: AppProcess;
let api: Client;
let adminToken: string;
const clients: PlainClient[] = [];
const sockets: TestSocket[] = [];

/** The answer of a socket.io request (contract section 3). */
type Envelope = { type: 'success' | 'error'; data: { message: string; data?: any; code?: string } };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mobileUrl = (app: AppProcess, query = '') => `ws://127.0.0.1:${app.port}/api/v1/ws${query}`;

/** Opens `/api/v1/ws?token=` as seed 001 says to. */
async function mobile(app: AppProcess, token: string, query = ''): Promise<PlainClient> {
  const plain = await openPlain(mobileUrl(app, `?token=${token}${query}`));
  clients.push(plain);
  return plain;
}

/** Frames already matched by `take`: answers that look alike (pong, errors) are told apart by arrival. */
const taken = new WeakSet<object>();
function take(plain: PlainClient, predicate: (frame: any) => boolean, timeoutMs = 10_000): Promise<any> {
  return plain.waitFor((f) => !taken.has(f) && predicate(f) && (taken.add(f), true), timeoutMs);
}

/**
 * Seed 001 has no "connected" frame, so a test that needs the connection's streams joined before
 * it acts waits for them in the admin view of the connections (`settings` and the user's payments
 * stream are joined after the user channel).
 */
async function streamsJoined(user: SignedIn): Promise<void> {
  await expect
    .poll(
      async () => {
        const { body } = await api.get('/api/v1/ws/connections', { token: adminToken });
        return (body.connections as { user_id: string; channels: string[] }[]).some(
          (c) =>
            c.user_id === user.userId &&
            c.channels.includes('settings') &&
            c.channels.includes(`~payments:${user.userId}`),
        );
      },
      { timeout: 10_000, interval: 100 },
    )
    .toBe(true);
}

async function notice(user: SignedIn, message: string): Promise<void> {
  const sent = await api.post(`/api/v1/admin/users/${user.userId}/notices`, { message }, { token: adminToken });
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
}

async function pushTest(user: SignedIn, event: string, payload: Record<string, unknown>): Promise<void> {
  const pushed = await api.post(
    '/api/v1/admin/notifications/test',
    { user_id: user.userId, event, payload },
    { token: adminToken },
  );
  expect(pushed.status, JSON.stringify(pushed.body)).toBe(202);
}

/** A deposit through the sandbox partner, requested on a socket.io connection of the user. */
async function deposit(user: SignedIn, amount: string): Promise<string> {
  const socket = await connectUser(a.url, { token: user.accessToken });
  sockets.push(socket);
  const reply = (await socket.socket
    .timeout(10_000)
    .emitWithAck('deposit_request', { amount, currency: 'USD', service: 'mpesa' })) as Envelope;
  expect(reply, JSON.stringify(reply)).toMatchObject({ type: 'success' });
  return reply.data.data.payment_id as string;
}

beforeAll(async () => {
  const env = testEnv({
    REDIS_PREFIX: isolatedRedisPrefix(),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    SANDBOX_DELAY_MS: '200',
    ALLOWED_ORIGINS: ORIGIN,
  });
  [a, b] = await Promise.all([spawnApp({ env }), spawnApp({ env: { ...env, ROLE: 'api' } })]);
  api = client(a.url);
  adminToken = (await api.post('/api/v1/auth/login', ADMIN)).body.access_token;
});

afterAll(async () => {
  for (const plain of clients) plain.close();
  for (const socket of sockets) socket.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('/api/v1/ws', () => {
  it('runs seed 001’s subscribe, ping and unsubscribe as written there, with NOTIFICATION_UPDATE in between', async () => {
    const user = await signUpAndLogIn(api);
    const plain = await mobile(b, user.accessToken);
    // Seed 001, "Client Messages", frame by frame.
    plain.sendRaw('{\n  "event": "subscribe",\n  "channel": "notification.events"\n}');
    expect(await take(plain, (f) => f.event === 'subscribed')).toEqual({
      event: 'subscribed',
      channel: 'notification.events',
      seq: 0,
    });
    await notice(user, 'Your KYC documents were approved');
    // `notice` is the user channel's seq 1, its `notification_update` seq 2.
    const update = await take(plain, (f) => f.event === 'NOTIFICATION_UPDATE');
    expect(update).toEqual({
      event: 'NOTIFICATION_UPDATE',
      channel: 'notification.events',
      data: {
        mobile_user_id: user.userId,
        unread_count: 1,
        event_type: 'NOTIFICATION_UPDATE',
        timestamp: expect.any(Number),
      },
      seq: 2,
    });
    expect(Math.abs(update.data.timestamp - Date.now() / 1000)).toBeLessThan(30);

    plain.sendRaw('{\n  "event": "ping"\n}');
    expect(await take(plain, (f) => f.event === 'pong')).toEqual({ event: 'pong' });

    plain.sendRaw('{\n  "event": "unsubscribe",\n  "channel": "notification.events"\n}');
    expect(await take(plain, (f) => f.event === 'unsubscribed')).toEqual({
      event: 'unsubscribed',
      channel: 'notification.events',
      seq: 2,
    });
    // After unsubscribing, a second notice (seqs 3, 4) is not shown; the KYC change after it (seq 5)
    // proves the user channel went past it.
    plain.send({ event: 'subscribe', channel: 'kyc.events' });
    expect(await take(plain, (f) => f.event === 'subscribed')).toEqual({
      event: 'subscribed',
      channel: 'kyc.events',
      seq: 2,
    });
    await notice(user, 'second');
    await pushTest(user, 'state', { state: 'verified' });
    expect(await take(plain, (f) => f.event === 'KYC_STATE_UPDATE')).toMatchObject({ seq: 5 });
    expect(plain.frames.filter((f) => f.event === 'NOTIFICATION_UPDATE')).toHaveLength(1);
  });

  it('hears a setting changed by an admin on `settings` without subscribing', async () => {
    const user = await signUpAndLogIn(api);
    const plain = await mobile(a, user.accessToken);
    await streamsJoined(user);
    const before = (await api.get('/api/v1/settings', { token: user.accessToken })).body.as_of_seq as number;
    const changed = await api.put(
      '/api/v1/admin/settings/withdrawal_settings',
      { withdrawal_fee_rate: '1.50' },
      { token: adminToken },
    );
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    // Seed 001, "Global settings update", plus the channel's seq.
    expect(await take(plain, (f) => f.channel === 'settings')).toEqual({
      event: 'withdrawal_settings_updated',
      channel: 'settings',
      data: { type: 'withdrawal_settings_updated', withdrawal_fee_rate: '1.50' },
      seq: before + 1,
    });
  });

  it('sends KYC_STATE_UPDATE on kyc.events for a `state` event of the user channel', async () => {
    const user = await signUpAndLogIn(api);
    const plain = await mobile(a, user.accessToken);
    plain.send({ event: 'subscribe', channel: 'kyc.events' });
    expect(await take(plain, (f) => f.event === 'subscribed')).toEqual({
      event: 'subscribed',
      channel: 'kyc.events',
      seq: 0,
    });
    await pushTest(user, 'state', { state: 'verified' });
    expect(await take(plain, (f) => f.event === 'KYC_STATE_UPDATE')).toEqual({
      event: 'KYC_STATE_UPDATE',
      channel: 'kyc.events',
      data: { mobile_user_id: user.userId, state: 'verified' },
      seq: 1,
    });
  });

  it('sends every status change of a deposit on payment_order.events, and follows the payment by its id', async () => {
    const user = await signUpAndLogIn(api);
    const plain = await mobile(b, user.accessToken);
    plain.send({ event: 'subscribe', channel: 'payment_order.events' });
    expect(await take(plain, (f) => f.event === 'subscribed')).toEqual({
      event: 'subscribed',
      channel: 'payment_order.events',
      seq: 0,
    });
    await streamsJoined(user);
    const paymentId = await deposit(user, '25.00');
    await take(plain, (f) => f.event === 'PAYMENT_ORDER_UPDATE' && f.data.status === 'completed', 20_000);
    const updates = plain.frames.filter((f) => f.event === 'PAYMENT_ORDER_UPDATE');
    expect(updates.map((f) => [f.channel, f.seq, f.data.status])).toEqual([
      ['payment_order.events', 1, 'pending'],
      ['payment_order.events', 2, 'sent_to_partner'],
      ['payment_order.events', 3, 'completed'],
    ]);
    expect(updates[2].data).toMatchObject({
      kind: 'deposit',
      payment_id: paymentId,
      amount: 25,
      currency: 'USD',
      receipt_code: expect.stringMatching(/^RCP-/),
    });

    // The payment's own channel: it holds the same three changes.
    plain.send({ event: 'subscribe', channel: paymentId });
    expect(await take(plain, (f) => f.event === 'subscribed')).toEqual({
      event: 'subscribed',
      channel: paymentId,
      seq: 3,
    });
    plain.send({ event: 'unsubscribe', channel: paymentId });
    expect(await take(plain, (f) => f.event === 'unsubscribed')).toEqual({
      event: 'unsubscribed',
      channel: paymentId,
      seq: 3,
    });
  });

  it('follows the user’s own order by its id: subscribed with its seq, then every change as `order`', async () => {
    const user = await signUpAndLogIn(api);
    const funded = await api.post(
      '/api/v1/admin/adjustments',
      { user_id: user.userId, currency: 'EUR', amount: '100.00', direction: 'credit', reason: 'mobile test funds' },
      { token: adminToken },
    );
    expect(funded.status, JSON.stringify(funded.body)).toBe(201);
    const trader = await connectUser(a.url, { token: user.accessToken });
    sockets.push(trader);
    const ask = async (type: string, data: unknown) =>
      (await trader.socket.timeout(10_000).emitWithAck(type, data)) as Envelope;
    // Far below any price of this run: it rests on the book until cancelled.
    const placed = await ask('place_order', { pair: 'BTC-EUR', side: 'buy', type: 'limit', amount: 0.001, price: 100 });
    expect(placed, JSON.stringify(placed)).toMatchObject({ type: 'success', data: { data: { status: 'open' } } });
    const orderId = placed.data.data.id as string;

    const plain = await mobile(b, user.accessToken);
    plain.send({ event: 'subscribe', channel: orderId });
    expect(await take(plain, (f) => f.event === 'subscribed')).toEqual({
      event: 'subscribed',
      channel: orderId,
      seq: 1,
    });
    expect(await ask('cancel_order', { order_id: orderId })).toMatchObject({ type: 'success' });
    expect(await take(plain, (f) => f.channel === orderId && f.event === 'order')).toEqual({
      event: 'order',
      channel: orderId,
      data: expect.objectContaining({ id: orderId, status: 'cancelled', filled: 0 }),
      seq: 2,
    });
  });

  it('replays the user channel from ?since= into a logical channel when it is subscribed', async () => {
    const user = await signUpAndLogIn(api);
    await notice(user, 'one'); // seqs 1, 2
    await pushTest(user, 'state', { state: 'pending' }); // seq 3
    await notice(user, 'two'); // seqs 4, 5
    const plain = await mobile(a, user.accessToken, '&since=2');
    plain.send({ event: 'subscribe', channel: 'notification.events' });
    await take(plain, (f) => f.event === 'subscribed' && f.channel === 'notification.events');
    plain.send({ event: 'subscribe', channel: 'kyc.events' });
    await take(plain, (f) => f.event === 'subscribed' && f.channel === 'kyc.events');
    await pushTest(user, 'state', { state: 'verified' }); // seq 6
    await take(plain, (f) => f.event === 'KYC_STATE_UPDATE' && f.seq === 6);
    // Each logical channel got what it missed after seq 2, once, before its `subscribed`.
    expect(plain.frames.map((f) => [f.event, f.channel, f.seq, f.data?.unread_count ?? f.data?.state])).toEqual([
      ['NOTIFICATION_UPDATE', 'notification.events', 5, 2],
      ['subscribed', 'notification.events', 5, undefined],
      ['KYC_STATE_UPDATE', 'kyc.events', 3, 'pending'],
      ['subscribed', 'kyc.events', 5, undefined],
      ['KYC_STATE_UPDATE', 'kyc.events', 6, 'verified'],
    ]);
  });

  it('replaces the user’s connection on the other instance: MOBILE_USER_FORCE_LOGOUT_EVENT, then 4003', async () => {
    const user = await signUpAndLogIn(api);
    const first = await mobile(a, user.accessToken);
    await streamsJoined(user);
    const second = await mobile(b, user.accessToken);
    expect(await take(first, (f) => f.event === 'MOBILE_USER_FORCE_LOGOUT_EVENT')).toEqual({
      event: 'MOBILE_USER_FORCE_LOGOUT_EVENT',
      channel: 'mobile.force.logout',
      data: { mobile_user_id: user.userId, is_force_logout: true, reason: 'replaced' },
    });
    expect((await first.closed).code).toBe(4003);
    second.send({ event: 'ping' });
    expect(await take(second, (f) => f.event === 'pong')).toEqual({ event: 'pong' });
    expect(second.frames.some((f) => f.event === 'MOBILE_USER_FORCE_LOGOUT_EVENT')).toBe(false);
  });

  it('refuses a missing, bad, expired or revoked token and a foreign origin before the upgrade', async () => {
    const user = await signUpAndLogIn(api);
    const now = Math.floor(Date.now() / 1000);
    const expired = signJwt({ ...decodeJwt(user.accessToken), iat: now - 3600, exp: now - 60 }, inject('jwtSecret'));
    const revoked = await signUpAndLogIn(api);
    expect((await api.post('/api/v1/auth/logout', {}, { token: revoked.accessToken })).status).toBe(200);
    for (const [name, url] of [
      ['missing', mobileUrl(a)],
      ['empty', mobileUrl(a, '?token=')],
      ['bad', mobileUrl(a, '?token=not-a-token')],
      ['expired', mobileUrl(a, `?token=${expired}`)],
      ['revoked', mobileUrl(b, `?token=${revoked.accessToken}`)],
    ]) {
      const refused = await openPlain(url).catch((error: unknown) => error);
      expect(refused, name).toMatchObject({
        status: 401,
        body: {
          status_code: 401,
          message: expect.any(String),
          code: 'UNAUTHORIZED',
          trace_id: expect.any(String),
          data: null,
        },
      });
    }
    const foreign = await openPlain(mobileUrl(a, `?token=${user.accessToken}`), {
      origin: 'https://evil.example.com',
    }).catch((error: unknown) => error);
    expect(foreign).toMatchObject({
      status: 403,
      body: {
        status_code: 403,
        message: 'origin not allowed',
        code: 'FORBIDDEN',
        trace_id: expect.any(String),
        data: null,
      },
    });
    // The allowed origin, and the Authorization header instead of the query string.
    const allowed = await openPlain(mobileUrl(a), { origin: ORIGIN, authorization: `Bearer ${user.accessToken}` });
    clients.push(allowed);
    allowed.send({ event: 'ping' });
    expect(await take(allowed, (f) => f.event === 'pong')).toEqual({ event: 'pong' });
  });

  it('closes with 4001 when the session is logged out and 4003 on an admin’s forced logout, telling the client first', async () => {
    const user = await signUpAndLogIn(api);
    const plain = await mobile(b, user.accessToken);
    await streamsJoined(user);
    expect((await api.post('/api/v1/auth/logout', {}, { token: user.accessToken })).status).toBe(200);
    expect(await take(plain, (f) => f.event === 'MOBILE_USER_FORCE_LOGOUT_EVENT')).toEqual({
      event: 'MOBILE_USER_FORCE_LOGOUT_EVENT',
      channel: 'mobile.force.logout',
      data: { mobile_user_id: user.userId, is_force_logout: true, reason: 'revoked', detail: 'logout' },
    });
    expect((await plain.closed).code).toBe(4001);

    const other = await signUpAndLogIn(api);
    const forced = await mobile(a, other.accessToken);
    await streamsJoined(other);
    expect((await api.post(`/api/v1/admin/users/${other.userId}/force-logout`, {}, { token: adminToken })).status).toBe(
      200,
    );
    expect(await take(forced, (f) => f.event === 'MOBILE_USER_FORCE_LOGOUT_EVENT')).toMatchObject({
      data: { mobile_user_id: other.userId, is_force_logout: true, reason: 'revoked', detail: 'admin' },
    });
    expect((await forced.closed).code).toBe(4003);
  });

  it('accepts the card channels and mobile.force.logout, and keeps the card channels silent', async () => {
    const user = await signUpAndLogIn(api);
    const plain = await mobile(a, user.accessToken);
    for (const channel of ['card.events', 'card.create.events', 'card.withdraw.events', 'mobile.force.logout']) {
      plain.send({ event: 'subscribe', channel });
      expect(await take(plain, (f) => f.event === 'subscribed')).toEqual({ event: 'subscribed', channel, seq: 0 });
    }
    plain.send({ event: 'subscribe', channel: 'payment_order.events' });
    await take(plain, (f) => f.event === 'subscribed');
    await streamsJoined(user);
    await notice(user, 'something happened');
    await deposit(user, '5.00');
    await take(plain, (f) => f.event === 'PAYMENT_ORDER_UPDATE' && f.data.status === 'completed', 20_000);
    expect(plain.frames.filter((f) => String(f.channel).startsWith('card.') && f.event !== 'subscribed')).toEqual([]);
  });

  it('answers SUBSCRIPTION_FAILED for unknown channels, another user’s payment and the raw user channel', async () => {
    const [user, other] = [await signUpAndLogIn(api), await signUpAndLogIn(api)];
    const theirs = await deposit(other, '7.00');
    const mine = await deposit(user, '8.00');
    const plain = await mobile(b, user.accessToken);
    for (const channel of [
      'unknown.events',
      theirs,
      '00000000-0000-4000-8000-000000000000',
      user.channel,
      'settings:x',
    ]) {
      plain.send({ event: 'subscribe', channel });
      expect(await take(plain, (f) => f.event === 'error'), channel).toEqual({
        event: 'error',
        channel,
        data: { code: 'SUBSCRIPTION_FAILED', message: expect.any(String) },
      });
    }
    // The user's own payment is followed.
    plain.send({ event: 'subscribe', channel: mine });
    expect(await take(plain, (f) => f.event === 'subscribed')).toMatchObject({
      channel: mine,
      seq: expect.any(Number),
    });
  });

  it('refuses frames over the user’s rate with RATE_LIMIT_EXCEEDED, and closes with 4029 when it goes on', async () => {
    const user = await signUpAndLogIn(api);
    const plain = await mobile(a, user.accessToken);
    // 250 pings at once: more than any two minute windows allow (100 each), so at least 20 refusals.
    for (let i = 0; i < 250; i += 1) plain.send({ event: 'ping' });
    expect(await take(plain, (f) => f.event === 'error')).toEqual({
      event: 'error',
      data: {
        code: 'RATE_LIMIT_EXCEEDED',
        message: expect.stringMatching(/^rate limit exceeded: too many messages per (second|minute)$/),
        retry_after: expect.any(Number),
      },
    });
    expect((await plain.closed).code).toBe(4029);
    expect(plain.frames.filter((f) => f.event === 'pong').length).toBeLessThanOrEqual(200);
  });

  it('answers frames that are not JSON objects, or not its events, with INVALID_REQUEST and stays open', async () => {
    const user = await signUpAndLogIn(api);
    const plain = await mobile(a, user.accessToken);
    for (const raw of ['not json', '[1,2]', 'null', '"text"', '42', '{"event":']) {
      plain.sendRaw(raw);
      expect(await take(plain, (f) => f.event === 'error'), raw).toEqual({
        event: 'error',
        data: { code: 'INVALID_REQUEST', message: expect.stringMatching(/^invalid request format/) },
      });
    }
    for (const frame of [{}, { event: 'hello' }, { event: 'subscribe' }, { event: 'unsubscribe', channel: 7 }]) {
      plain.send(frame);
      expect(await take(plain, (f) => f.event === 'error'), JSON.stringify(frame)).toEqual({
        event: 'error',
        data: { code: 'INVALID_REQUEST', message: expect.any(String) },
      });
    }
    plain.sendRaw(Buffer.from([1, 2, 3]));
    expect(await take(plain, (f) => f.event === 'error')).toEqual({
      event: 'error',
      data: { code: 'INVALID_REQUEST', message: 'binary frames are not accepted' },
    });
    plain.send({ event: 'ping' });
    expect(await take(plain, (f) => f.event === 'pong')).toEqual({ event: 'pong' });
    await sleep(100);
    expect(plain.ws.readyState).toBe(plain.ws.OPEN);
  });
});
