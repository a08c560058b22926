// Fault: Redis killed (SIGKILL) and started again empty, under a steady load of transfers, with
// sockets on two API instances and a worker (issue 15). Nothing acknowledged may be missing, no
// event lost, repeated or reordered for any socket, every job scheduler back within 10 s, and a
// deposit and a withdrawal in flight at the kill reach their final state, nothing restarted.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULES } from '../../src/core/queue/schedules.js';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { configDirWith, withLimits } from '../helpers/config-dir.js';
import { withDb } from '../helpers/db.js';
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
import { startRedisChild, type RedisChild } from '../helpers/redis-child.js';

const ADMIN = { email: 'fault-redis-admin@example.com', password: 'fault redis admin password' };
const PREFIX = isolatedRedisPrefix();
const SCHEDULERS = SCHEDULES.length;

let redis: RedisChild;
let a: AppProcess;
let b: AppProcess;
let worker: AppProcess;
let api: Client;
let adminToken: string;
const followers: Follower[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function fund(userId: string, amount: string): Promise<void> {
  const funded = await api.post(
    '/api/v1/admin/adjustments',
    { user_id: userId, currency: 'USD', amount, direction: 'credit', reason: 'fault test funds' },
    { token: adminToken },
  );
  expect(funded.status, JSON.stringify(funded.body)).toBe(201);
}

/** A withdrawal verification token, as verify_otp would issue it (payments.test covers the flow). */
async function withdrawalToken(userId: string): Promise<string> {
  const token = randomBytes(32).toString('hex');
  await withDb((db) =>
    db.query(
      `INSERT INTO verification_tokens (token_hash, user_id, purpose, method, created_at, expires_at)
       VALUES ($1, $2, 'withdrawal', 'otp_email', now(), now() + interval '300 seconds')`,
      [createHash('sha256').update(token).digest(), userId],
    ),
  );
  return token;
}

const statusOf = (table: 'deposits' | 'withdrawals', ref: string) =>
  withDb(async (db) => (await db.query(`SELECT status FROM ${table} WHERE request_ref = $1`, [ref])).rows[0]?.status);

beforeAll(async () => {
  redis = await startRedisChild();
  const env = testEnv({
    REDIS_URL: redis.url,
    REDIS_PREFIX: PREFIX,
    CONFIG_DIR: configDirWith({ 'plans.json': withLimits(1_000_000, 100_000) }),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    OUTBOX_RELAY_AFTER_MS: '500',
    SANDBOX_DELAY_MS: '1500',
    JOB_LOCK_MS: '1500',
  });
  [a, b] = await Promise.all([spawnApp({ env: { ...env, ROLE: 'api' } }), spawnApp({ env: { ...env, ROLE: 'api' } })]);
  worker = await spawnApp({ env: { ...env, SANDBOX_URL: a.url, WEBHOOK_BASE_URL: a.url }, entry: 'worker' });
  api = client(a.url);
  adminToken = (await api.post('/api/v1/auth/login', ADMIN)).body.access_token;
});

afterAll(async () => {
  for (const follower of followers) follower.close();
  await Promise.all([a?.stop(), b?.stop(), worker?.stop()]);
  await redis?.kill();
});

describe('Redis killed and restarted empty under load', () => {
  it('loses nothing acknowledged, no event, no scheduler, no payment in flight', async () => {
    // Six users, sockets alternating between the two instances, funded after they connect so
    // every event of their channels is seen.
    const users: SignedIn[] = [];
    for (let i = 0; i < 6; i += 1) users.push(await signUpAndLogIn(api));
    for (const [i, user] of users.entries()) {
      followers.push(await followUser(i % 2 ? b.url : a.url, user.accessToken, user.channel));
    }
    for (const user of users) await fund(user.userId, '1000.00');
    const schedulerKeys = () => redis.keys(`${PREFIX}:bull:*:repeat:*`);
    await expect
      .poll(async () => (await schedulerKeys()).length, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(SCHEDULERS);

    const load = transferLoad(users.map((user, i) => ({ userId: user.userId, socket: () => followers[i].socket })));
    await sleep(2000);

    // A deposit and a withdrawal in flight when Redis goes: the worker is stopped (SIGSTOP) so
    // their jobs are certainly still in Redis, and lost with it.
    worker.child.kill('SIGSTOP');
    const [payer, saver] = [followers[0], followers[1]];
    const deposit = (await payer.socket.timeout(5000).emitWithAck('deposit_request', {
      amount: '25.00',
      currency: 'USD',
      service: 'mpesa',
    })) as { type: string; data: { data: { request_ref: string } } };
    expect(deposit.type).toBe('success');
    const withdrawal = (await saver.socket.timeout(5000).emitWithAck('withdraw_request', {
      amount: '40.00',
      currency: 'USD',
      destination: '+254712345678',
      verification_token: await withdrawalToken(users[1].userId),
    })) as { type: string; data: { data: { request_ref: string } } };
    expect(withdrawal.type, JSON.stringify(withdrawal)).toBe('success');

    await redis.kill();
    await sleep(1500);
    await redis.restart();
    worker.child.kill('SIGCONT');
    const back = Date.now();
    expect(await schedulerKeys()).toEqual([]);
    await expect
      .poll(async () => (await schedulerKeys()).length, { timeout: 10_000, interval: 250 })
      .toBeGreaterThanOrEqual(SCHEDULERS);
    const schedulersBackMs = Date.now() - back;

    await sleep(3000);
    await load.stop();
    const transfers = load.transfers;
    const retried = transfers.filter((t) => t.errors.length > 0).length;
    console.log(
      `redis fault: ${transfers.length} transfers, ${retried} retried with their key, schedulers back in ${schedulersBackMs} ms`,
    );
    expect(transfers.length).toBeGreaterThan(20);
    await expectTransfersExactlyOnce(transfers);

    // The payments in flight reach their final state without any process restarted.
    await expect
      .poll(() => statusOf('deposits', deposit.data.data.request_ref), { timeout: 40_000, interval: 500 })
      .toBe('completed');
    await expect
      .poll(() => statusOf('withdrawals', withdrawal.data.data.request_ref), { timeout: 40_000, interval: 500 })
      .toBe('completed');

    await expectEveryEventOnce(followers);
    await expectLedgerBalanced(api, adminToken);
    for (const process of [a, b, worker]) expect(process.child.exitCode).toBeNull();
  }, 150_000);
});
