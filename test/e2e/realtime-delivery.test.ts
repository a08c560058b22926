// Delivery of events across two API processes sharing PostgreSQL and Redis: reaching exactly the
// channel's sockets, replay with `since` (exact, ordered, no duplicates, even while publishing),
// the relay for an event committed but never emitted, retention resets, public channels,
// settings, admin diagnostics and metrics.
import type { INestApplicationContext } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealtimePublisher } from '../../src/core/realtime/realtime.publisher.js';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { unsentOf, withDb } from '../helpers/db.js';
import { signUpAndLogIn, type SignedIn } from '../helpers/factories.js';
import { client, type Client } from '../helpers/http.js';
import { createTestContext, testConfig } from '../helpers/nest.js';
import { connect, connectUser, type TestSocket } from '../helpers/sockets.js';

const ADMIN = { email: 'rt-admin@example.com', password: 'realtime admin password' };
const REDIS_PREFIX = isolatedRedisPrefix();
let a: AppProcess;
let b: AppProcess;
let apiA: Client;
let apiB: Client;
let adminToken: string;
const sockets: TestSocket[] = [];

const track = <T extends TestSocket>(socket: T): T => {
  sockets.push(socket);
  return socket;
};

async function push(userId: string, event: string, payload: Record<string, unknown> = {}): Promise<void> {
  const result = await apiA.post(
    '/api/v1/admin/notifications/test',
    { user_id: userId, event, payload },
    { token: adminToken },
  );
  expect(result.status, JSON.stringify(result.body)).toBe(202);
}

const seqs = (socket: TestSocket, channel: string) =>
  socket
    .frames()
    .filter((f) => f.channel === channel)
    .map((f) => f.seq);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  const env = testEnv({
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    OUTBOX_RELAY_AFTER_MS: '1000',
    REDIS_PREFIX,
  });
  // A runs the API and the worker (the relay); B only the API.
  [a, b] = await Promise.all([spawnApp({ env }), spawnApp({ env: { ...env, ROLE: 'api' } })]);
  apiA = client(a.url);
  apiB = client(b.url);
  adminToken = (await apiA.post('/api/v1/auth/login', ADMIN)).body.access_token;
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('across two API processes', () => {
  it('delivers an event published through one to its channel on the other, and nowhere else', async () => {
    const [x, y] = [await signUpAndLogIn(apiA), await signUpAndLogIn(apiA)];
    const sx = track(await connectUser(b.url, { token: x.accessToken }));
    const sy = track(await connectUser(b.url, { token: y.accessToken }));
    const connected = sx.received.find((r) => r.event === 'connected')!.args[0] as any;
    expect(connected).toMatchObject({ user_id: x.userId, channel: x.channel, seq: 0, reset: false });
    expect(typeof connected.timestamp).toBe('number');

    await push(x.userId, 'payment', { PaymentId: 'test_123', Status: 'authorized', Amount: 100 });
    const frame = await sx.waitFor('stream', (f) => f.event === 'payment');
    expect(frame).toMatchObject({
      event: 'payment',
      channel: x.channel,
      seq: 1,
      payload: { PaymentId: 'test_123', Status: 'authorized', Amount: 100 },
    });
    expect(new Date(frame.timestamp).toISOString()).toBe(frame.timestamp);
    await push(y.userId, 'marker');
    await sy.waitFor('stream', (f) => f.event === 'marker');
    expect(sy.frames().map((f) => f.event)).toEqual(['marker']);
    expect(sx.frames().map((f) => f.event)).toEqual(['payment']);
  });

  it('delivers over the polling transport too', async () => {
    const user = await signUpAndLogIn(apiA);
    const polling = track(await connectUser(a.url, { token: user.accessToken, transports: ['polling'] }));
    await push(user.userId, 'polled');
    expect(await polling.waitFor('stream', (f) => f.event === 'polled')).toMatchObject({ seq: 1 });
  });
});

describe('replay', () => {
  let user: SignedIn;

  beforeAll(async () => {
    user = await signUpAndLogIn(apiA);
  });

  it('resumes with auth.since: exactly the missing seqs, in order, none twice, while publishing goes on', async () => {
    const first = track(await connectUser(b.url, { token: user.accessToken }));
    for (let i = 1; i <= 5; i += 1) await push(user.userId, 'tick', { i });
    await first.waitFor('stream', (f) => f.seq === 5);
    expect(seqs(first, user.channel)).toEqual([1, 2, 3, 4, 5]);
    first.close();

    for (let i = 6; i <= 30; i += 1) await push(user.userId, 'tick', { i });
    // Reconnect (through the other instance) while 25 more are being published.
    const publishing = (async () => {
      for (let i = 31; i <= 55; i += 1) await push(user.userId, 'tick', { i });
    })();
    const resumed = track(await connectUser(a.url, { token: user.accessToken, since: 5 }));
    await publishing;
    await resumed.waitFor('stream', (f) => f.seq === 55, 10_000);
    await sleep(300);
    const got = seqs(resumed, user.channel);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i + 6));
    expect(resumed.frames().map((f) => f.payload.i)).toEqual(got);
    // `connected` came before any replayed event.
    expect(resumed.received[0].event).toBe('connected');
    expect(resumed.received[0].args[0]).toMatchObject({ seq: expect.any(Number), reset: false });
  });

  it('replays with channel {channel, since} for a receive-only socket, then goes live', async () => {
    const listener = track(await connectUser(b.url));
    const ack = await listener.socket.emitWithAck('channel', { channel: user.channel, since: 40 });
    expect(ack).toEqual({ ok: true, channel: user.channel, seq: 55 });
    await listener.waitFor('stream', (f) => f.seq === 55);
    await push(user.userId, 'tick', { i: 56 });
    await listener.waitFor('stream', (f) => f.seq === 56);
    expect(seqs(listener, user.channel)).toEqual(Array.from({ length: 16 }, (_, i) => i + 41));
  });

  it('says reset when since is older than what is retained', async () => {
    const fresh = await signUpAndLogIn(apiA);
    for (let i = 1; i <= 4; i += 1) await push(fresh.userId, 'tick', { i });
    await withDb((db) => db.query(`DELETE FROM outbox_writes WHERE channel = $1 AND last_seq <= 2`, [fresh.channel]));

    const listener = track(await connectUser(b.url));
    expect(await listener.socket.emitWithAck('channel', { channel: fresh.channel, since: 1 })).toEqual({
      ok: true,
      channel: fresh.channel,
      seq: 4,
      reset: true,
    });
    const resumed = track(await connectUser(a.url, { token: fresh.accessToken, since: 1 }));
    expect(resumed.received[0].args[0]).toMatchObject({ reset: true, seq: 4 });
    // Retained history is still there for a since that is covered.
    const covered = track(await connectUser(a.url, { token: fresh.accessToken, since: 2 }));
    await covered.waitFor('stream', (f) => f.seq === 4);
    expect(seqs(covered, fresh.channel)).toEqual([3, 4]);
    await sleep(200);
    expect(seqs(listener, fresh.channel)).toEqual([]);
  });
});

/** What a publisher leaves behind when killed after COMMIT and before putting its event on the bus. */
async function commitUnemitted(channel: string, event: string): Promise<void> {
  await withDb(async (db) => {
    await db.query('BEGIN');
    const { rows } = await db.query(
      `INSERT INTO channel_seq (channel, seq) VALUES ($1, 1) ON CONFLICT (channel) DO UPDATE SET seq = channel_seq.seq + 1 RETURNING seq`,
      [channel],
    );
    await db.query(
      `INSERT INTO outbox_writes (channel, first_seq, last_seq, events)
         VALUES ($1, $2, $2, json_build_array(json_build_object('event', $3::text, 'payload', '{"ok":true}'::json)))`,
      [channel, rows[0].seq, event],
    );
    await db.query('COMMIT');
  });
}

/** A new user with a socket on instance b that has received the user's first event ('before'). */
async function userWithOneEvent(): Promise<{ user: SignedIn; socket: TestSocket }> {
  const user = await signUpAndLogIn(apiA);
  const socket = track(await connectUser(b.url, { token: user.accessToken }));
  await push(user.userId, 'before');
  await socket.waitFor('stream', (f) => f.seq === 1);
  return { user, socket };
}

describe('relay', () => {
  it('emits an event that was committed but never emitted (a process died in between) within 10 s', async () => {
    const { user, socket } = await userWithOneEvent();
    await commitUnemitted(user.channel, 'orphan');
    const started = Date.now();
    const frame = await socket.waitFor('stream', (f) => f.event === 'orphan', 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(frame).toMatchObject({ seq: 2, payload: { ok: true } });
    await push(user.userId, 'after');
    await socket.waitFor('stream', (f) => f.event === 'after');
    expect(seqs(socket, user.channel)).toEqual([1, 2, 3]);
    // Emitted rows are marked in batches a moment later.
    await expect.poll(() => unsentOf(user.channel), { timeout: 3000 }).toBe(0);
  });
});

describe('gaps', () => {
  it('fills a gap from the outbox at once when a later event arrives first, then goes on in order', async () => {
    const { user, socket } = await userWithOneEvent();
    await commitUnemitted(user.channel, 'missing');
    const started = Date.now();
    await push(user.userId, 'after');
    await socket.waitFor('stream', (f) => f.event === 'after');
    // Long before the relay would have sent it (after 1 s): taken from the outbox by the delivery.
    expect(Date.now() - started).toBeLessThan(900);
    await push(user.userId, 'later');
    await socket.waitFor('stream', (f) => f.event === 'later');
    expect(seqs(socket, user.channel)).toEqual([1, 2, 3, 4]);
    expect(
      socket
        .frames()
        .filter((f) => f.channel === user.channel)
        .map((f) => f.event),
    ).toEqual(['before', 'missing', 'after', 'later']);
    // When the relay sends it again later, the socket does not get it twice.
    await expect.poll(() => unsentOf(user.channel), { timeout: 5000 }).toBe(0);
    await sleep(200);
    expect(seqs(socket, user.channel)).toEqual([1, 2, 3, 4]);
  });
});

describe('public namespace', () => {
  let context: INestApplicationContext;

  afterAll(async () => {
    await context?.close();
  });

  it('puts every public socket in trade, ticker and market-depth and broadcasts to them from any process', async () => {
    const pub = track(await connect(b.url, { namespace: '/public' }));
    context = await createTestContext([], testConfig({ REDIS_PREFIX }));
    const publisher = context.get(RealtimePublisher);
    await publisher.publishPublic('ticker', 'tick', { pair: 'BTC-EUR', last: 201.28 });
    const tick = await pub.waitFor('stream', (f) => f.event === 'tick');
    expect(tick).toMatchObject({ channel: 'ticker', payload: { pair: 'BTC-EUR', last: 201.28 } });
    expect(tick.seq).toBeGreaterThan(0);

    expect(await pub.socket.emitWithAck('channel', 'trade:BTC-EUR')).toMatchObject({
      ok: true,
      channel: 'trade:BTC-EUR',
    });
    expect(await pub.socket.emitWithAck('channel', 'nonsense')).toEqual({
      ok: false,
      error: { code: 'SUBSCRIPTION_FAILED', message: 'unknown public channel' },
    });
    expect(await pub.socket.emitWithAck('leave', 'ticker')).toMatchObject({ ok: true });
    await publisher.publishPublic('ticker', 'tick', { pair: 'BTC-EUR', last: 1 });
    await publisher.publishPublic('trade:BTC-EUR', 'new-trade', { price: 201.28, traded_btc: 0.1 });
    await pub.waitFor('stream', (f) => f.event === 'new-trade');
    expect(pub.frames().filter((f) => f.event === 'tick')).toHaveLength(1);
  });
});

describe('settings channel', () => {
  it('pushes a stored setting to every socket on every instance, and serves it', async () => {
    const [u1, u2] = [await signUpAndLogIn(apiA), await signUpAndLogIn(apiA)];
    const s1 = track(await connectUser(a.url, { token: u1.accessToken }));
    const s2 = track(await connectUser(b.url, { token: u2.accessToken }));
    const put = await apiA.put(
      '/api/v1/admin/settings/withdrawal_settings',
      { withdrawal_fee_rate: '1.50' },
      { token: adminToken },
    );
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ key: 'withdrawal_settings', value: { withdrawal_fee_rate: '1.50' } });
    for (const socket of [s1, s2]) {
      const frame = await socket.waitFor('stream', (f) => f.channel === 'settings');
      expect(frame).toMatchObject({
        event: 'withdrawal_settings_updated',
        payload: { type: 'withdrawal_settings_updated', withdrawal_fee_rate: '1.50' },
      });
    }
    const read = await apiB.get('/api/v1/settings', { token: u1.accessToken });
    expect(read.body.settings.withdrawal_settings).toEqual({ withdrawal_fee_rate: '1.50' });
    expect(read.body.as_of_seq).toBeGreaterThanOrEqual(1);

    expect((await apiA.put('/api/v1/admin/settings/Bad-Key', { a: 1 }, { token: adminToken })).body.code).toBe(
      'VALIDATION_FAILED',
    );
    expect((await apiA.put('/api/v1/admin/settings/x', { a: 1 }, { token: u1.accessToken })).status).toBe(403);
  });
});

describe('notifications', () => {
  it('sends notice and notification_update, lists, and marks read', async () => {
    const user = await signUpAndLogIn(apiA);
    const socket = track(await connectUser(b.url, { token: user.accessToken }));
    const sent = await apiA.post(
      `/api/v1/admin/users/${user.userId}/notices`,
      { message: 'KYC approved' },
      { token: adminToken },
    );
    expect(sent.status).toBe(201);
    expect(await socket.waitFor('stream', (f) => f.event === 'notice')).toMatchObject({
      payload: { message: 'KYC approved' },
    });
    expect(await socket.waitFor('stream', (f) => f.event === 'notification_update')).toMatchObject({
      payload: { unread_count: 1 },
    });
    const list = await socket.socket.emitWithAck('get_notifications', {});
    expect(list).toMatchObject({
      type: 'success',
      data: { message: 'notifications retrieved', data: { unread_count: 1, total: 1 } },
    });
    const marked = await socket.socket.emitWithAck('mark_notifications_read', {});
    expect(marked.data.data).toEqual({ unread_count: 0, marked: 1 });
    await socket.waitFor('stream', (f) => f.event === 'notification_update' && f.payload.unread_count === 0);
  });
});

describe('admin diagnostics', () => {
  it('lists connected users and connections of every instance, for admins only', async () => {
    const user = await signUpAndLogIn(apiA);
    track(await connectUser(b.url, { token: user.accessToken }));
    const users = await apiA.get('/api/v1/ws/connected-users', { token: adminToken });
    expect(users.status).toBe(200);
    expect(users.body.user_ids).toContain(user.userId);
    const connections = await apiA.get('/api/v1/ws/connections', { token: adminToken });
    const mine = connections.body.connections.find((c: any) => c.user_id === user.userId);
    expect(mine).toMatchObject({ namespace: '/user', auth: 'token', plan: 'standard' });
    expect(mine.channels).toEqual(expect.arrayContaining([user.channel, 'settings']));
    const stats = await apiB.get('/api/v1/ws/stats', { token: adminToken });
    expect(stats.body.instances).toBe(2);
    expect(stats.body.connections).toBeGreaterThanOrEqual(1);
    for (const path of ['connected-users', 'connections', 'stats']) {
      expect((await apiA.get(`/api/v1/ws/${path}`, { token: user.accessToken })).status).toBe(403);
      expect((await apiA.get(`/api/v1/ws/${path}`)).status).toBe(401);
    }
  });

  it('exposes socket.io metrics', async () => {
    const metrics = await apiB.get('/metrics');
    expect(metrics.body).toMatch(/realtime_connections\{namespace="user"\} \d+/);
    expect(metrics.body).toMatch(/realtime_events_emitted_total\{namespace="user"\} [1-9]/);
    expect(metrics.body).toContain('realtime_events_replayed_total');
  });
});
