// A transfer starts while its rate limit is still being counted (issue 18): the count's Redis round
// trip overlaps the posting's transaction instead of coming before it, and the posting commits
// only once the request is admitted. Redis's writes are paused (CLIENT PAUSE … WRITE, on a Redis of
// the test's own) so that the count cannot answer: meanwhile the transfer already holds its
// sender's account in an open transaction and nothing is answered; admitted, it completes; refused,
// it commits nothing, announces nothing, and is answered RATE_LIMIT_EXCEEDED only; and when
// PostgreSQL goes (stopped the hard way, a PostgreSQL of the test's own) while it waits, it is
// answered SERVICE_UNAVAILABLE, never INTERNAL, and commits nothing.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { configDirWith, withLimits } from '../helpers/config-dir.js';
import { accountLockedNow, countRows as countRowsAt, withDb as withDbAt } from '../helpers/db.js';
import { signUpAndLogIn, type SignedIn } from '../helpers/factories.js';
import { client, type Client } from '../helpers/http.js';
import { startPostgresChild, type PostgresChild } from '../helpers/postgres-child.js';
import { startRedisChild, type RedisChild } from '../helpers/redis-child.js';
import { connectUser, type TestSocket } from '../helpers/sockets.js';

const ADMIN = { email: 'counted-admin@example.com', password: 'counted admin password' };
/** Requests per minute per user: the sender's fourth in a minute is refused. */
const BUDGET = 3;

let postgres: PostgresChild;
let redis: RedisChild;
let control: Redis;
let app: AppProcess;
let api: Client;
let admin: string;
let receiver: SignedIn;
/** The first test's sender (each test spends a budget of its own). */
let sender: SignedIn;
let socket: TestSocket;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const withDb = <T>(fn: Parameters<typeof withDbAt<T>>[0]) => withDbAt(fn, postgres.url);
const countRows = (table: string, where: string, params: unknown[]) => countRowsAt(table, where, params, postgres.url);

type Envelope = { type: string; data: { code?: string; retry_after?: number; data?: { journal_id: number } } };

const usd = (userId: string) =>
  withDb(async (db) => {
    const { rows } = await db.query<{ id: string; balance: string }>(
      `SELECT id, balance FROM accounts WHERE owner_user_id = $1 AND currency = 'USD' AND kind = 'user_wallet'`,
      [userId],
    );
    return rows[0];
  });

const heldNow = (accountId: string) => accountLockedNow(accountId, postgres.url);

/**
 * Sends a transfer while Redis takes no writes; once its transaction holds the sender's account,
 * runs `meanwhile`; returns its answer once Redis takes writes again.
 */
async function transferWhileCountIsOut(
  from: { user: SignedIn; socket: TestSocket },
  amount: string,
  meanwhile?: () => Promise<void>,
): Promise<{ envelope: Envelope; held: boolean }> {
  const account = (await usd(from.user.userId)).id;
  await control.call('CLIENT', 'PAUSE', '5000', 'WRITE');
  let answered = false;
  const answer = from.socket.socket
    .timeout(10_000)
    .emitWithAck('transfer', { to_user_id: receiver.userId, amount, currency: 'USD' })
    .then((envelope: Envelope) => {
      answered = true;
      return envelope;
    });
  try {
    const deadline = Date.now() + 3000;
    let held = false;
    while (!held && Date.now() < deadline) {
      held = await heldNow(account);
      if (!held) await sleep(20);
    }
    expect(answered).toBe(false);
    if (held) await meanwhile?.();
    return { envelope: await Promise.all([answer, control.call('CLIENT', 'UNPAUSE')]).then(([e]) => e), held };
  } finally {
    await control.call('CLIENT', 'UNPAUSE');
  }
}

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgresChild(), startRedisChild()]);
  control = new Redis(redis.url);
  app = await spawnApp({
    env: testEnv({
      DATABASE_URL: postgres.url,
      DATABASE_CONNECT_TIMEOUT_MS: '2000',
      REDIS_URL: redis.url,
      REDIS_PREFIX: isolatedRedisPrefix(),
      CONFIG_DIR: configDirWith({ 'plans.json': withLimits(BUDGET) }),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      ROLE: 'api',
    }),
  });
  api = client(app.url);
  receiver = await signUpAndLogIn(api);
  admin = (await api.post('/api/v1/auth/login', ADMIN)).body.access_token as string;
  ({ user: sender, socket } = await fundedSender());
});

/** A new user with 100.00 USD, and a socket of theirs. */
async function fundedSender(): Promise<{ user: SignedIn; socket: TestSocket }> {
  const user = await signUpAndLogIn(api);
  const funded = await api.post(
    '/api/v1/admin/adjustments',
    { user_id: user.userId, currency: 'USD', amount: '100.00', direction: 'credit', reason: 'counted test funds' },
    { token: admin },
  );
  expect(funded.status, JSON.stringify(funded.body)).toBe(201);
  return { user, socket: await connectUser(app.url, { token: user.accessToken }) };
}

afterAll(async () => {
  socket?.socket.disconnect();
  control?.disconnect();
  await app?.stop();
  await redis?.kill();
});

describe('a transfer started while its rate limit is counted', () => {
  it('posts meanwhile, commits once admitted, and commits nothing when refused', async () => {
    // Everything below must fall in one per-minute window.
    const into = Date.now() % 60_000;
    if (into > 40_000) await sleep(60_000 - into + 100);

    // Admitted (1st of 3): its transaction was open before the count answered; then it completes.
    const admitted = await transferWhileCountIsOut({ user: sender, socket }, '10.00');
    expect(admitted.held).toBe(true);
    expect(admitted.envelope.type, JSON.stringify(admitted.envelope)).toBe('success');
    // 10.00 and its 2 % fee.
    expect((await usd(sender.userId)).balance).toBe('8980');
    expect((await usd(receiver.userId)).balance).toBe('1000');

    // The 2nd and 3rd use the budget up.
    for (let i = 0; i < 2; i += 1) {
      expect(((await socket.socket.emitWithAck('get_notifications', {})) as Envelope).type).toBe('success');
    }
    const journals = await countRows('journals', 'initiated_by = $1', [sender.userId]);
    const events = await countRows('outbox_writes', 'channel = $1', [sender.channel]);

    // Refused (4th): it ran as far as its COMMIT, which never came.
    const refused = await transferWhileCountIsOut({ user: sender, socket }, '10.00');
    expect(refused.held).toBe(true);
    expect(refused.envelope).toMatchObject({ type: 'error', data: { code: 'RATE_LIMIT_EXCEEDED' } });
    expect((await usd(sender.userId)).balance).toBe('8980');
    expect((await usd(receiver.userId)).balance).toBe('1000');
    expect(await countRows('journals', 'initiated_by = $1', [sender.userId])).toBe(journals);
    expect(await countRows('outbox_writes', 'channel = $1', [sender.channel])).toBe(events);
    expect(await heldNow((await usd(sender.userId)).id)).toBe(false);
  });

  it('answers SERVICE_UNAVAILABLE, never INTERNAL, when PostgreSQL goes while it waits, and commits nothing', async () => {
    const other = await fundedSender();
    const before = await usd(other.user.userId);
    const lost = await transferWhileCountIsOut(other, '10.00', () => postgres.stopImmediately());
    expect(lost.held).toBe(true);
    expect(lost.envelope).toMatchObject({ type: 'error', data: { code: 'SERVICE_UNAVAILABLE' } });
    await postgres.restart();
    expect((await usd(other.user.userId)).balance).toBe(before.balance);
    other.socket.socket.disconnect();
    expect(app.output()).not.toMatch(/"code":"INTERNAL"/);
    // And the service is whole again once the database is back.
    await expect.poll(async () => (await api.get('/api/v1/health')).status, { timeout: 5000, interval: 100 }).toBe(200);
  });
});
