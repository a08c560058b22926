// Fault: PostgreSQL (a throwaway server of this test's own) stopped the hard way (`-m immediate`)
// and started again, under a steady load of transfers through two API instances (issue 15).
// During the outage requests are answered SERVICE_UNAVAILABLE with retry_after and health says the
// database is down; clients retrying with their idempotency keys end with every transfer posted
// exactly once; the service answers again within 2 s of the database; no event is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { configDirWith, withLimits } from '../helpers/config-dir.js';
import { signUpAndLogIn, type SignedIn } from '../helpers/factories.js';
import {
  expectEveryEventOnce,
  expectLedgerBalanced,
  expectTransfersExactlyOnce,
  followUser,
  transferLoad,
  type Follower,
} from '../helpers/faults.js';
import { client, type Client } from '../helpers/http.js';
import { startPostgresChild, type PostgresChild } from '../helpers/postgres-child.js';

const ADMIN = { email: 'fault-pg-admin@example.com', password: 'fault postgres admin password' };

let postgres: PostgresChild;
let a: AppProcess;
let b: AppProcess;
let apiA: Client;
let apiB: Client;
let adminToken: string;
const followers: Follower[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  postgres = await startPostgresChild();
  const env = testEnv({
    DATABASE_URL: postgres.url,
    REDIS_PREFIX: isolatedRedisPrefix(),
    CONFIG_DIR: configDirWith({ 'plans.json': withLimits(1_000_000, 100_000) }),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    DATABASE_CONNECT_TIMEOUT_MS: '2000',
  });
  // A runs the worker too (the outbox relay).
  [a, b] = await Promise.all([spawnApp({ env }), spawnApp({ env: { ...env, ROLE: 'api' } })]);
  apiA = client(a.url);
  apiB = client(b.url);
  adminToken = (await apiA.post('/api/v1/auth/login', ADMIN)).body.access_token;
});

afterAll(async () => {
  for (const follower of followers) follower.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('PostgreSQL stopped (immediate) and restarted under load', () => {
  it('answers SERVICE_UNAVAILABLE meanwhile, comes back within 2 s, posts every transfer exactly once', async () => {
    const users: SignedIn[] = [];
    for (let i = 0; i < 6; i += 1) users.push(await signUpAndLogIn(apiA));
    for (const [i, user] of users.entries()) {
      followers.push(await followUser(i % 2 ? b.url : a.url, user.accessToken, user.channel));
    }
    for (const user of users) {
      const funded = await apiA.post(
        '/api/v1/admin/adjustments',
        { user_id: user.userId, currency: 'USD', amount: '1000.00', direction: 'credit', reason: 'fault test funds' },
        { token: adminToken },
      );
      expect(funded.status).toBe(201);
    }

    const load = transferLoad(
      users.map((user, i) => ({ userId: user.userId, socket: () => followers[i].socket })),
      { ackTimeoutMs: 5000 },
    );
    await sleep(2000);

    await postgres.stopImmediately();
    await sleep(1000);
    // Meanwhile: socket requests, REST and health all say so.
    const duringSocket = (await followers[0].socket.timeout(10_000).emitWithAck('get_accounts', {})) as {
      type: string;
      data: { code: string; retry_after?: number };
    };
    expect(duringSocket).toMatchObject({ type: 'error', data: { code: 'SERVICE_UNAVAILABLE', retry_after: 1 } });
    const duringRest = await apiB.get('/api/v1/user', { token: users[1].accessToken });
    expect(duringRest.status).toBe(503);
    expect(duringRest.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', data: { retry_after: 1 } });
    expect(duringRest.headers.get('retry-after')).toBe('1');
    const health = await apiA.get('/api/v1/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'error', error: { database: { status: 'down' } } });
    expect(health.body.info).toMatchObject({ redis: { status: 'up' } });
    await sleep(1500);

    await postgres.restart();
    const back = Date.now();
    // The service answers again within 2 s of the database.
    await expect
      .poll(async () => (await apiB.get('/api/v1/user', { token: users[1].accessToken })).status, {
        timeout: 2000,
        interval: 50,
      })
      .toBe(200);
    const recoveredMs = Date.now() - back;
    expect((await apiA.get('/api/v1/health')).status).toBe(200);

    await sleep(2000);
    await load.stop();
    const transfers = load.transfers;
    const codes = new Set(transfers.flatMap((t) => t.errors));
    console.log(
      `postgres fault: ${transfers.length} transfers, ${transfers.filter((t) => t.errors.length).length} retried with their key (answers: ${[...codes].join(', ')}), service back ${recoveredMs} ms after the database`,
    );
    expect([...codes].filter((code) => code !== 'SERVICE_UNAVAILABLE' && code !== 'no answer')).toEqual([]);
    expect(codes.has('SERVICE_UNAVAILABLE')).toBe(true);
    await expectTransfersExactlyOnce(transfers, postgres.url);
    await expectEveryEventOnce(followers, postgres.url);
    await expectLedgerBalanced(apiA, adminToken);
    expect(a.output()).not.toMatch(/"level":50[^\n]*"code":"INTERNAL"/);
    for (const process of [a, b]) expect(process.child.exitCode).toBeNull();
  }, 150_000);
});
