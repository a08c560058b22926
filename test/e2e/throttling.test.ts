// Throttling over HTTP (issue 15, defect 7), across two API instances: password guessing per
// account and per client address, with the same answers for known and unknown accounts, and the
// per-user request budget applied to authenticated REST together with socket requests.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { configDirWith, withLimits } from '../helpers/config-dir.js';
import { PASSWORD, signUpAndLogIn, uniqueEmail } from '../helpers/factories.js';
import { client, type Client, type HttpResult } from '../helpers/http.js';
import { connectUser } from '../helpers/sockets.js';

const ADMIN = { email: 'throttle-admin@example.com', password: 'throttle admin password' };
const BUDGET = 30;
let a: AppProcess;
let b: AppProcess;
let apiA: Client;
let apiB: Client;

/** A client address of its own for a test (the API trusts X-Forwarded-For from loopback only). */
const address = () => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

const login = (api: Client, email: string, password: string, from: string) =>
  api.post('/api/v1/auth/login', { email, password }, { headers: { 'x-forwarded-for': from } });

const statuses = (results: HttpResult[]) => results.map((r) => r.status).sort();

/** Waits, if need be, so the next few seconds stay inside one per-minute window. */
async function insideOneMinute(seconds = 8): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 60_000 - seconds * 1000) await new Promise((resolve) => setTimeout(resolve, 60_000 - into + 50));
}

beforeAll(async () => {
  const env = testEnv({
    REDIS_PREFIX: isolatedRedisPrefix(),
    CONFIG_DIR: configDirWith({ 'plans.json': withLimits(BUDGET) }),
    LOGIN_FAILURES_PER_ACCOUNT: '5',
    LOGIN_FAILURES_PER_IP: '20',
    LOGIN_FAILURE_WINDOW_S: '60',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    ROLE: 'api',
  });
  [a, b] = await Promise.all([spawnApp({ env }), spawnApp({ env })]);
  apiA = client(a.url);
  apiB = client(b.url);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('failed logins', () => {
  it('lets at most the limit of guesses through for an account, even sent at once to two instances', async () => {
    const user = await signUpAndLogIn(apiA);
    const from = address();
    const guesses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => login(i % 2 ? apiA : apiB, user.email, `wrong password ${i}`, from)),
    );
    expect(guesses.filter((r) => r.status === 401)).toHaveLength(5);
    const refused = guesses.filter((r) => r.status === 429);
    expect(refused).toHaveLength(195);
    expect(refused[0].body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', data: { retry_after: expect.any(Number) } });
    expect(refused[0].body.data.retry_after).toBeGreaterThan(0);
    expect(refused[0].body.data.retry_after).toBeLessThanOrEqual(60);
    expect(Number(refused[0].headers.get('retry-after'))).toBe(refused[0].body.data.retry_after);

    // The right password is refused too while the account is throttled, from any address.
    const right = await login(apiB, user.email, PASSWORD, address());
    expect(right.status).toBe(429);
    // Another account from the same address is not.
    const other = await signUpAndLogIn(apiA);
    expect((await login(apiA, other.email, PASSWORD, from)).status).toBe(200);
  });

  it('answers an unknown email exactly as a known one (no account enumeration)', async () => {
    const known = await signUpAndLogIn(apiA);
    const unknown = uniqueEmail('nobody');
    const sequence = async (email: string) => {
      const from = address();
      const results: HttpResult[] = [];
      for (let i = 0; i < 7; i += 1) results.push(await login(apiA, email, 'not the password', from));
      return results.map((r) => [r.status, r.body.code, r.body.message]);
    };
    const [forKnown, forUnknown] = [await sequence(known.email), await sequence(unknown)];
    expect(forUnknown.map(([status, code]) => [status, code])).toEqual(
      forKnown.map(([status, code]) => [status, code]),
    );
    expect(forKnown.slice(0, 5).every(([status]) => status === 401)).toBe(true);
    expect(forKnown.slice(5).every(([status]) => status === 429)).toBe(true);
    expect(forUnknown[0][2]).toBe(forKnown[0][2]);
  });

  it('limits failures from one address across many accounts', async () => {
    const from = address();
    const results: HttpResult[] = [];
    for (let i = 0; i < 25; i += 1) results.push(await login(i % 2 ? apiA : apiB, uniqueEmail('spray'), 'x', from));
    expect(statuses(results)).toEqual([...Array(20).fill(401), ...Array(5).fill(429)]);
    // Another address is not affected.
    expect((await login(apiA, uniqueEmail('spray'), 'x', address())).status).toBe(401);
  });

  it('forgets an account’s failures after a successful login', async () => {
    const user = await signUpAndLogIn(apiA);
    const from = address();
    for (let round = 0; round < 3; round += 1) {
      for (let i = 0; i < 4; i += 1) expect((await login(apiA, user.email, 'wrong', from)).status).toBe(401);
      expect((await login(apiB, user.email, PASSWORD, from)).status).toBe(200);
    }
  });
});

describe('the per-user request budget on REST', () => {
  it('refuses authenticated requests past the budget, on both instances, counting socket requests too', async () => {
    const user = await signUpAndLogIn(apiA);
    await insideOneMinute();
    const results = await Promise.all(
      Array.from({ length: BUDGET + 10 }, (_, i) =>
        (i % 2 ? apiA : apiB).get('/api/v1/user', { token: user.accessToken }),
      ),
    );
    // signUpAndLogIn made no authenticated request: the whole budget was left.
    expect(results.filter((r) => r.status === 200)).toHaveLength(BUDGET);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(10);
    expect(refused[0].body).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', data: { retry_after: expect.any(Number) } });

    // The same budget holds on the socket.
    const socket = await connectUser(a.url, { token: user.accessToken });
    try {
      const answer = await socket.socket.emitWithAck('get_accounts', {});
      expect(answer).toMatchObject({ type: 'error', data: { code: 'RATE_LIMIT_EXCEEDED' } });
    } finally {
      socket.close();
    }
  });

  it('does not budget public routes or administrators', async () => {
    await insideOneMinute();
    const admin = (await apiA.post('/api/v1/auth/login', ADMIN)).body.access_token as string;
    const results = await Promise.all([
      ...Array.from({ length: BUDGET + 5 }, () => apiA.get('/api/v1/health')),
      ...Array.from({ length: BUDGET + 5 }, () => apiB.get('/api/v1/ws/stats', { token: admin })),
    ]);
    expect(results.every((r) => r.status === 200)).toBe(true);
  });
});
