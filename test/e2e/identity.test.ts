// Identity over real HTTP against the built service: signup, login, the user, refresh rotation with
// family revocation, logout across two instances, API keys, and every refusal leaving no trace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { countRows, withDb } from '../helpers/db.js';
import { PASSWORD, signUpAndLogIn, uniqueEmail } from '../helpers/factories.js';
import { client, type Client } from '../helpers/http.js';
import { decodeJwt, signJwt } from '../helpers/jwt.js';

const ADMIN_EMAIL = 'root-admin@example.com';
const ADMIN_PASSWORD = 'admin password 123';

let first: AppProcess;
let second: AppProcess;
let api: Client;
let api2: Client;

beforeAll(async () => {
  // Two instances sharing PostgreSQL and Redis, started at the same time (both bootstrap the admin).
  const env = testEnv({ ADMIN_EMAIL, ADMIN_PASSWORD });
  [first, second] = await Promise.all([spawnApp({ env }), spawnApp({ env })]);
  api = client(first.url);
  api2 = client(second.url);
});

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
});

describe('signup, login and the user', () => {
  it('signs up, logs in and returns the user with a private channel', async () => {
    const email = uniqueEmail('flow');
    const signup = await api.post('/api/v1/auth/signup', {
      email: email.toUpperCase(),
      password: PASSWORD,
      name: 'Ada',
    });
    expect(signup.status).toBe(201);
    expect(signup.body.user).toMatchObject({ email, role: 'user', plan: 'standard', state: 'active', name: 'Ada' });

    const login = await api.post('/api/v1/auth/login', { email, password: PASSWORD });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect(login.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const claims = decodeJwt(login.body.access_token);
    expect(claims).toMatchObject({ sub: signup.body.user.id, role: 'user', iss: 'cashier' });
    expect(claims.sid).toMatch(/^[0-9a-f-]{36}$/);

    const me = await api.get('/api/v1/user', { token: login.body.access_token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: signup.body.user.id, email, role: 'user', two_factor_enabled: false });
    expect(me.body.channel).toMatch(/^[0-9a-f]{32}$/);
    expect(me.body.channel).toBe(signup.body.user.channel);
    expect(me.body).not.toHaveProperty('password_hash');
  });

  it('creates the configured admin exactly once, even with two instances starting together', async () => {
    expect(await countRows('users', 'email = $1', [ADMIN_EMAIL])).toBe(1);
    const login = await api2.post('/api/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    expect(login.status).toBe(200);
    expect(login.body.user.role).toBe('admin');
    expect(decodeJwt(login.body.access_token).role).toBe('admin');
  });
});

describe('refresh rotation', () => {
  it('rotates: the new refresh token works once, the old one is refused', async () => {
    const user = await signUpAndLogIn(api);
    const rotated = await api.post('/api/v1/auth/refresh', { refresh_token: user.refreshToken });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(user.refreshToken);
    expect(decodeJwt(rotated.body.access_token).sid).toBe(decodeJwt(user.accessToken).sid);
    expect((await api.get('/api/v1/user', { token: rotated.body.access_token })).status).toBe(200);

    const again = await api.post('/api/v1/auth/refresh', { refresh_token: rotated.body.refresh_token });
    expect(again.status).toBe(200);
  });

  it('revokes the whole family when a spent refresh token is presented again', async () => {
    const user = await signUpAndLogIn(api);
    const rotated = await api.post('/api/v1/auth/refresh', { refresh_token: user.refreshToken });
    expect(rotated.status).toBe(200);

    const replay = await api2.post('/api/v1/auth/refresh', { refresh_token: user.refreshToken });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('AUTHENTICATION_FAILED');

    // Every token of the family is dead now, on both instances.
    const next = await api.post('/api/v1/auth/refresh', { refresh_token: rotated.body.refresh_token });
    expect(next.status).toBe(401);
    expect((await api.get('/api/v1/user', { token: rotated.body.access_token })).status).toBe(401);
    expect((await api2.get('/api/v1/user', { token: user.accessToken })).status).toBe(401);
    const revoked = await withDb((db) =>
      db.query('SELECT revoked_reason FROM sessions WHERE id = $1', [decodeJwt(user.accessToken).sid]),
    );
    expect(revoked.rows[0].revoked_reason).toBe('refresh_token_reuse');
  });

  it('refuses malformed and unknown refresh tokens', async () => {
    for (const refresh_token of ['x', 'A'.repeat(43), '']) {
      const result = await api.post('/api/v1/auth/refresh', { refresh_token });
      expect(result.status, refresh_token).toBe(401);
      expect(result.body.code).toBe('AUTHENTICATION_FAILED');
    }
    expect((await api.post('/api/v1/auth/refresh', { refresh_token: 42 })).body.code).toBe('VALIDATION_FAILED');
  });
});

describe('logout', () => {
  it('makes the access token fail on the other instance at once', async () => {
    const user = await signUpAndLogIn(api);
    // Warm the other instance's view of the session first.
    expect((await api2.get('/api/v1/user', { token: user.accessToken })).status).toBe(200);

    const logout = await api.post('/api/v1/auth/logout', undefined, { token: user.accessToken });
    expect(logout.status).toBe(200);

    const after = await api2.get('/api/v1/user', { token: user.accessToken });
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ status_code: 401, code: 'UNAUTHORIZED', message: 'Invalid or expired token' });
    expect((await api.post('/api/v1/auth/refresh', { refresh_token: user.refreshToken })).status).toBe(401);
    // Other sessions of the same user are untouched.
    const other = await api.post('/api/v1/auth/login', { email: user.email, password: PASSWORD });
    expect((await api2.get('/api/v1/user', { token: other.body.access_token })).status).toBe(200);
  });
});

describe('refusals change nothing', () => {
  const userCount = () => countRows('users');

  it.each([
    ['invalid email', { email: 'not-an-email', password: PASSWORD }, 'email'],
    ['short password', { email: uniqueEmail(), password: 'short' }, 'password'],
    ['missing password', { email: uniqueEmail() }, 'password'],
    ['email of the wrong type', { email: 12345, password: PASSWORD }, 'email'],
    ['unknown field', { email: uniqueEmail(), password: PASSWORD, role: 'admin' }, 'role'],
    ['bad phone', { email: uniqueEmail(), password: PASSWORD, phone: '0712' }, 'phone'],
  ])('signup with %s → 400 VALIDATION_FAILED naming the field', async (_name, body, field) => {
    const before = await userCount();
    const result = await api.post('/api/v1/auth/signup', body);
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ status_code: 400, code: 'VALIDATION_FAILED', data: { field } });
    expect(result.body.message).toContain(field);
    expect(result.body.trace_id).toBe(result.headers.get('x-trace-id'));
    expect(await userCount()).toBe(before);
  });

  it('duplicate email (any case) → 409 CONFLICT', async () => {
    const email = uniqueEmail('dup');
    expect((await api.post('/api/v1/auth/signup', { email, password: PASSWORD })).status).toBe(201);
    const before = await userCount();
    const again = await api2.post('/api/v1/auth/signup', { email: ` ${email.toUpperCase()} `, password: PASSWORD });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'CONFLICT', data: { field: 'email' } });
    expect(await userCount()).toBe(before);
  });

  it('wrong password and unknown email get the same 401 answer', async () => {
    const user = await signUpAndLogIn(api);
    const sessions = await countRows('sessions');
    const wrong = await api.post('/api/v1/auth/login', { email: user.email, password: 'wrong password!' });
    const unknown = await api.post('/api/v1/auth/login', { email: uniqueEmail('nobody'), password: PASSWORD });
    for (const result of [wrong, unknown]) {
      expect(result.status).toBe(401);
      expect(result.body).toMatchObject({ code: 'AUTHENTICATION_FAILED', message: 'invalid email or password' });
    }
    expect(await countRows('sessions')).toBe(sessions);
  });

  it('refuses tampered, alg:none, foreign-algorithm, expired and session-less tokens', async () => {
    const user = await signUpAndLogIn(api);
    const claims = decodeJwt(user.accessToken);
    const secret = inject('jwtSecret');
    const [head, , signature] = user.accessToken.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const tokens = {
      tampered: `${head}.${forgedPayload}.${signature}`,
      'alg none': signJwt({ ...claims, role: 'admin' }, secret, 'none'),
      HS512: signJwt(claims, secret, 'HS512'),
      'wrong secret': signJwt(claims, 'another secret of thirty-two characters'),
      expired: signJwt({ ...claims, iat: now - 3600, exp: now - 60 }, secret),
      'unknown session': signJwt({ ...claims, sid: '00000000-0000-4000-8000-000000000000' }, secret),
      'another user’s session': signJwt({ ...claims, sub: '999999999' }, secret),
      'wrong issuer': signJwt({ ...claims, iss: 'someone-else' }, secret),
      garbage: 'not.a.jwt',
    };
    for (const [name, token] of Object.entries(tokens)) {
      const result = await api.get('/api/v1/user', { token });
      expect(result.status, name).toBe(401);
      expect(result.body, name).toMatchObject({
        code: 'UNAUTHORIZED',
        message: 'Invalid or expired token',
        data: null,
      });
    }
    expect((await api.get('/api/v1/user', { token: user.accessToken })).status).toBe(200);
  });

  it('refuses a non-JSON body, malformed JSON, a JSON array and a 2 MB body', async () => {
    const before = await userCount();
    const cases = [
      { raw: 'email=a@b.c&password=12345678', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      { raw: 'just text', headers: { 'content-type': 'text/plain' } },
      { raw: '{"email": "a@example.com", ' },
      { raw: '[1,2,3]' },
      { raw: 'null' },
    ];
    for (const options of cases) {
      const result = await api.post('/api/v1/auth/signup', undefined, options);
      expect(result.status, options.raw).toBe(400);
      expect(['INVALID_REQUEST', 'VALIDATION_FAILED'], options.raw).toContain(result.body.code);
    }
    const big = JSON.stringify({ email: uniqueEmail(), password: PASSWORD, name: 'x'.repeat(2 * 1024 * 1024) });
    const tooLarge = await api.post('/api/v1/auth/signup', undefined, { raw: big });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status_code: 413 });
    expect(await userCount()).toBe(before);
  });

  it('answers unknown routes with the same error shape', async () => {
    const result = await api.get('/api/v1/nothing-here');
    expect(result.status).toBe(404);
    expect(result.body).toMatchObject({ status_code: 404, code: 'NOT_FOUND', data: null });
    expect(result.body.trace_id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('keeps a well-formed incoming X-Request-Id as the trace id', async () => {
    const result = await api.get('/api/v1/user', { headers: { 'x-request-id': 'client-trace-0001' } });
    expect(result.body.trace_id).toBe('client-trace-0001');
    expect(result.headers.get('x-trace-id')).toBe('client-trace-0001');
  });
});

describe('API keys', () => {
  it('issues a key once, stores only its hash, lists and revokes it', async () => {
    const user = await signUpAndLogIn(api);
    const created = await api.post('/api/v1/user/api-keys', undefined, { token: user.accessToken });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ plan: 'standard' });
    expect(created.body.api_key).toMatch(/^ck_[A-Za-z0-9_-]{43}$/);

    const stored = await withDb((db) => db.query('SELECT * FROM api_keys WHERE id = $1', [created.body.id]));
    const row = JSON.stringify(stored.rows[0]);
    expect(row).not.toContain(created.body.api_key.slice(3));

    const list = await api2.get('/api/v1/user/api-keys', { token: user.accessToken });
    expect(list.body.api_keys).toEqual([
      expect.objectContaining({ id: created.body.id, prefix: created.body.api_key.slice(0, 10) }),
    ]);
    expect(JSON.stringify(list.body)).not.toContain(created.body.api_key);

    const stranger = await signUpAndLogIn(api);
    const foreign = await api.delete(`/api/v1/user/api-keys/${created.body.id}`, { token: stranger.accessToken });
    expect(foreign.status).toBe(404);

    expect((await api.delete(`/api/v1/user/api-keys/${created.body.id}`, { token: user.accessToken })).status).toBe(
      204,
    );
    expect((await api.delete(`/api/v1/user/api-keys/${created.body.id}`, { token: user.accessToken })).status).toBe(
      404,
    );
    expect((await api.delete('/api/v1/user/api-keys/not-a-uuid', { token: user.accessToken })).status).toBe(404);
    expect((await api.get('/api/v1/user/api-keys', { token: user.accessToken })).body.api_keys).toEqual([]);
  });

  it('needs authentication', async () => {
    expect((await api.post('/api/v1/user/api-keys')).status).toBe(401);
  });
});

describe('operations', () => {
  it('reports health of database, Redis and queues', async () => {
    const health = await api.get('/api/v1/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    expect(health.body.info).toMatchObject({
      database: { status: 'up' },
      redis: { status: 'up' },
      queues: { status: 'up' },
    });
  });

  it('serves Prometheus metrics including HTTP durations', async () => {
    await api.get('/api/v1/health');
    const metrics = await api.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('process_cpu_user_seconds_total');
    expect(metrics.body).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/health",status="200"\}/,
    );
  });

  it('serves the OpenAPI document', async () => {
    const docs = await api.get('/api/docs/json');
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/auth/signup', '/api/v1/auth/login', '/api/v1/user', '/api/v1/health']),
    );
    expect((await api.get('/api/docs')).status).toBe(200);
  });

  it('sets security headers', async () => {
    const result = await api.get('/api/v1/health');
    expect(result.headers.get('x-content-type-options')).toBe('nosniff');
    expect(result.headers.get('x-powered-by')).toBeNull();
  });

  it('never writes passwords or tokens to its logs', async () => {
    const user = await signUpAndLogIn(api);
    await api.get('/api/v1/user', { token: user.accessToken });
    await api.get(`/api/v1/user?token=${user.accessToken}`);
    await api.post('/api/v1/auth/refresh', { refresh_token: user.refreshToken });
    const logs = first.output();
    expect(logs).toContain('request completed');
    for (const secret of [PASSWORD, user.accessToken, user.refreshToken, ADMIN_PASSWORD]) {
      expect(logs).not.toContain(secret);
    }
  });
});
