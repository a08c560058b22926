// Who may connect, join and send, across two API processes: every refusal with its code and no
// other effect; plan limits held in Redis; force logout, logout and SINGLE_SOCKET_PER_USER reaching
// sockets on the other instance; token expiry and refresh; channel rotation; API keys; shutdown.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { countRows } from '../helpers/db.js';
import { signUpAndLogIn, type SignedIn } from '../helpers/factories.js';
import { client, type Client } from '../helpers/http.js';
import { decodeJwt, signJwt } from '../helpers/jwt.js';
import { connect, connectUser, refusedConnect, type TestSocket } from '../helpers/sockets.js';

const ADMIN = { email: 'access-admin@example.com', password: 'access admin password' };
const ALLOWED_ORIGIN = 'http://allowed.example';
let a: AppProcess;
let b: AppProcess;
let apiA: Client;
let adminToken: string;
const sockets: TestSocket[] = [];
const track = (socket: TestSocket): TestSocket => {
  sockets.push(socket);
  return socket;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  const env = testEnv({
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    ALLOWED_ORIGINS: ALLOWED_ORIGIN,
    REDIS_PREFIX: isolatedRedisPrefix(),
  });
  [a, b] = await Promise.all([spawnApp({ env: { ...env, ROLE: 'api' } }), spawnApp({ env: { ...env, ROLE: 'api' } })]);
  apiA = client(a.url);
  adminToken = (await apiA.post('/api/v1/auth/login', ADMIN)).body.access_token;
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('handshake refusals', () => {
  const unauthorized = {
    message: 'unauthorized',
    data: {
      status_code: 401,
      code: 'UNAUTHORIZED',
      message: 'Invalid or expired token',
      data: null,
      trace_id: expect.any(String),
    },
  };

  it('refuses a bad, an expired and a revoked token with connect_error "unauthorized"', async () => {
    const user = await signUpAndLogIn(apiA);
    const claims = decodeJwt(user.accessToken);
    const now = Math.floor(Date.now() / 1000);
    const expired = signJwt({ ...claims, iat: now - 1000, exp: now - 10 }, inject('jwtSecret'));
    expect(await refusedConnect(b.url, { token: 'not-a-token' })).toMatchObject(unauthorized);
    expect(await refusedConnect(b.url, { token: expired })).toMatchObject(unauthorized);
    expect(await refusedConnect(b.url, { query: { token: 'bad' } })).toMatchObject(unauthorized);
    expect(await refusedConnect(b.url, { extraHeaders: { authorization: 'Bearer bad' } })).toMatchObject(unauthorized);
    expect(await refusedConnect(b.url, { apiKey: 'ck_nope' })).toMatchObject({
      message: 'unauthorized',
      data: { code: 'UNAUTHORIZED' },
    });

    // The token also works from the query string and the Authorization header.
    track(await connectUser(b.url, { query: { token: user.accessToken } }));
    track(await connectUser(b.url, { extraHeaders: { authorization: `Bearer ${user.accessToken}` } }));

    await apiA.post('/api/v1/auth/logout', undefined, { token: user.accessToken });
    expect(await refusedConnect(b.url, { token: user.accessToken })).toMatchObject(unauthorized);
  });

  it('refuses a browser origin that ALLOWED_ORIGINS does not list', async () => {
    const user = await signUpAndLogIn(apiA);
    const refused = await refusedConnect(b.url, {
      token: user.accessToken,
      extraHeaders: { origin: 'http://evil.example' },
    });
    expect(refused).toMatchObject({
      message: 'forbidden',
      data: { status_code: 403, code: 'FORBIDDEN', message: 'origin not allowed' },
    });
    expect(
      await refusedConnect(b.url, { namespace: '/public', extraHeaders: { origin: 'http://evil.example' } }),
    ).toMatchObject({
      data: { code: 'FORBIDDEN' },
    });
    track(await connectUser(b.url, { token: user.accessToken, extraHeaders: { origin: ALLOWED_ORIGIN } }));
  });

  it('refuses a malformed auth.since', async () => {
    const user = await signUpAndLogIn(apiA);
    expect(await refusedConnect(b.url, { token: user.accessToken, since: -1 })).toMatchObject({
      data: { code: 'VALIDATION_FAILED', message: 'auth.since must be a non-negative integer' },
    });
  });
});

describe('channels', () => {
  it('refuses unknown ids and a user’s public id, and joins a user channel by its exact id', async () => {
    const [owner, other] = [await signUpAndLogIn(apiA), await signUpAndLogIn(apiA)];
    const socket = track(await connectUser(b.url, { token: other.accessToken }));
    const refused = (channel: string) => ({
      ok: false,
      channel,
      error: { code: 'SUBSCRIPTION_FAILED', message: 'unknown channel' },
    });
    expect(await socket.socket.emitWithAck('channel', 'f'.repeat(32))).toEqual(refused('f'.repeat(32)));
    expect(await socket.socket.emitWithAck('channel', owner.userId)).toEqual(refused(owner.userId));
    expect(await socket.socket.emitWithAck('channel', '@user:1')).toMatchObject({
      ok: false,
      error: { code: 'SUBSCRIPTION_FAILED' },
    });
    expect(await socket.socket.emitWithAck('channel', { channel: owner.channel, since: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    expect(await socket.socket.emitWithAck('channel', 42)).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    expect(await socket.socket.emitWithAck('channel', owner.channel)).toEqual({
      ok: true,
      channel: owner.channel,
      seq: 0,
    });
    expect(await socket.socket.emitWithAck('leave', owner.channel)).toMatchObject({ ok: true });
  });

  it('lets a receive-only socket listen but answers every request with UNAUTHORIZED', async () => {
    const anonymous = track(await connectUser(b.url));
    expect(anonymous.received[0].args[0]).toMatchObject({ user_id: null, channel: null });
    expect(await anonymous.socket.emitWithAck('get_notifications', {})).toMatchObject({
      type: 'error',
      data: { code: 'UNAUTHORIZED', message: 'unauthorized' },
    });
    expect(await anonymous.socket.emitWithAck('refresh', { access_token: 'x' })).toMatchObject({
      data: { code: 'UNAUTHORIZED' },
    });
  });
});

describe('request refusals', () => {
  let user: SignedIn;
  let socket: TestSocket;

  beforeAll(async () => {
    user = await signUpAndLogIn(apiA);
    socket = track(await connectUser(b.url, { token: user.accessToken }));
  });

  it('answers an unknown request type, a non-object payload and a bad DTO with their codes', async () => {
    expect(await socket.socket.emitWithAck('launch_rockets', {})).toMatchObject({
      type: 'error',
      data: { code: 'INVALID_REQUEST', message: 'unknown request type: launch_rockets' },
      timestamp: expect.any(Number),
    });
    for (const payload of ['text', 42, [1, 2], null]) {
      expect(await socket.socket.emitWithAck('get_notifications', payload)).toMatchObject({
        data: { code: 'INVALID_REQUEST', message: 'invalid request format: data must be an object' },
      });
    }
    expect(await socket.socket.emitWithAck('get_notifications', { limit: 1000 })).toMatchObject({
      data: { code: 'VALIDATION_FAILED', field: 'limit' },
    });
    expect(await socket.socket.emitWithAck('get_notifications', { surprise: true })).toMatchObject({
      data: { code: 'VALIDATION_FAILED', field: 'surprise' },
    });
  });

  it('answers without an ack as a `response` event naming the request', async () => {
    socket.socket.emit('launch_rockets', {});
    expect(await socket.waitFor('response', (r) => r.request_type === 'launch_rockets')).toMatchObject({
      type: 'error',
      data: { code: 'INVALID_REQUEST' },
    });
  });

  it('answers a frame with broken JSON with INVALID_REQUEST and keeps the connection', async () => {
    const frames = await rawSocketIo(b.port, (ws, frame) => {
      if (frame.startsWith('40/user')) ws.send('42/user,7["get_notifications",{oops');
    });
    expect(frames.find((f) => f.startsWith('43/user,7'))).toMatch(/"code":"INVALID_REQUEST"/);
  });

  it('closes the connection on a frame above the 64 KB limit (close code 1009), and nothing else happens', async () => {
    let closeCode = 0;
    await rawSocketIo(
      b.port,
      (ws, frame) => {
        if (frame.startsWith('40/user')) ws.send(`42/user,["get_notifications",{"x":"${'a'.repeat(70_000)}"}]`);
      },
      (code) => (closeCode = code),
    );
    expect(closeCode).toBe(1009);
    expect((await apiA.get('/api/v1/health')).status).toBe(200);
    expect(await socket.socket.emitWithAck('get_notifications', {})).toMatchObject({ type: 'success' });
  });
});

describe('limits held across instances', () => {
  it('refuses the 101st request in a minute with retry_after, and it changes nothing', async () => {
    const user = await signUpAndLogIn(apiA);
    await apiA.post(`/api/v1/admin/users/${user.userId}/notices`, { message: 'unread' }, { token: adminToken });
    const onA = track(await connectUser(a.url, { token: user.accessToken }));
    const onB = track(await connectUser(b.url, { token: user.accessToken }));
    // All 101 must fall in one minute window; stay under 50 per second.
    const second = new Date().getSeconds();
    if (second > 55) await sleep((61 - second) * 1000);
    const batch = (s: TestSocket, n: number) =>
      Promise.all(Array.from({ length: n }, () => s.socket.emitWithAck('get_notifications', {})));
    const answers = await batch(onA, 40);
    await sleep(1100);
    answers.push(...(await batch(onB, 40)));
    await sleep(1100);
    answers.push(...(await batch(onA, 20)));
    expect(answers.filter((r) => r.type === 'success')).toHaveLength(100);

    const refused = await onB.socket.emitWithAck('mark_notifications_read', {});
    expect(refused).toMatchObject({
      type: 'error',
      data: { code: 'RATE_LIMIT_EXCEEDED', retry_after: expect.any(Number) },
    });
    expect(refused.data.retry_after).toBeGreaterThanOrEqual(1);
    expect(refused.data.retry_after).toBeLessThanOrEqual(60);
    expect(await countRows('notifications', 'user_id = $1 AND read_at IS NULL', [user.userId])).toBe(1);
  });

  it('refuses the 51st message in a second on the standard plan', async () => {
    const user = await signUpAndLogIn(apiA);
    const socket = track(await connectUser(b.url, { token: user.accessToken }));
    while (Date.now() % 1000 > 300) await sleep(20);
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => socket.socket.emitWithAck('get_notifications', {})),
    );
    expect(answers.filter((r) => r.type === 'success')).toHaveLength(50);
    expect(answers.filter((r) => r.data.code === 'RATE_LIMIT_EXCEEDED')).toHaveLength(10);
  });

  it('refuses the 6th standard-plan connection with CONNECTION_LIMIT, counting both instances', async () => {
    const user = await signUpAndLogIn(apiA);
    const open = [
      ...(await Promise.all([1, 2, 3].map(() => connectUser(a.url, { token: user.accessToken })))),
      ...(await Promise.all([1, 2].map(() => connectUser(b.url, { token: user.accessToken })))),
    ];
    open.forEach(track);
    const refused = await refusedConnect(b.url, { token: user.accessToken });
    expect(refused).toMatchObject({
      message: 'connection_limit',
      data: {
        status_code: 429,
        code: 'CONNECTION_LIMIT',
        message: 'connection limit reached: the standard plan allows 5 connections',
      },
    });
    expect((await refusedConnect(a.url, { token: user.accessToken })).data.code).toBe('CONNECTION_LIMIT');
    open[0].close();
    await sleep(200);
    track(await connectUser(b.url, { token: user.accessToken }));
  });
});

describe('sessions reaching sockets on the other instance', () => {
  it('admin force-logout: force_logout then disconnect within 1 s, API-key sockets included', async () => {
    const user = await signUpAndLogIn(apiA);
    const key = (await apiA.post('/api/v1/user/api-keys', undefined, { token: user.accessToken })).body.api_key;
    const tokenSocket = track(await connectUser(b.url, { token: user.accessToken }));
    const keySocket = track(await connectUser(b.url, { apiKey: key }));
    expect(keySocket.received[0].args[0]).toMatchObject({ user_id: user.userId, channel: user.channel });

    const started = Date.now();
    const result = await apiA.post(`/api/v1/admin/users/${user.userId}/force-logout`, undefined, { token: adminToken });
    expect(result.body).toEqual({ user_id: user.userId, sessions_revoked: 1 });
    for (const socket of [tokenSocket, keySocket]) {
      expect(await socket.waitFor('force_logout', undefined, 1000)).toMatchObject({ reason: 'revoked' });
      await socket.waitFor('disconnect', undefined, 1000);
    }
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await client(b.url).get('/api/v1/user', { token: user.accessToken })).status).toBe(401);
    expect(
      (await apiA.post('/api/v1/admin/users/999999999/force-logout', undefined, { token: adminToken })).status,
    ).toBe(404);
    expect(
      (await apiA.post(`/api/v1/admin/users/${user.userId}/force-logout`, undefined, { token: user.accessToken }))
        .status,
    ).toBe(401);
  });

  it('logout through one instance closes that session’s sockets on the other, and only those', async () => {
    const user = await signUpAndLogIn(apiA);
    const other = await apiA.post('/api/v1/auth/login', { email: user.email, password: 'correct horse battery' });
    const loggingOut = track(await connectUser(b.url, { token: user.accessToken }));
    const staying = track(await connectUser(b.url, { token: other.body.access_token }));
    await apiA.post('/api/v1/auth/logout', undefined, { token: user.accessToken });
    expect(await loggingOut.waitFor('force_logout', undefined, 1000)).toEqual({ reason: 'revoked', detail: 'logout' });
    await loggingOut.waitFor('disconnect', undefined, 1000);
    await sleep(200);
    expect(staying.socket.connected).toBe(true);
  });

  it('revoking an API key closes the sockets that use it', async () => {
    const user = await signUpAndLogIn(apiA);
    const key = (await apiA.post('/api/v1/user/api-keys', undefined, { token: user.accessToken })).body;
    const socket = track(await connectUser(b.url, { apiKey: key.api_key }));
    await apiA.delete(`/api/v1/user/api-keys/${key.id}`, { token: user.accessToken });
    expect(await socket.waitFor('force_logout', undefined, 1000)).toMatchObject({ reason: 'revoked' });
  });

  it('rotating the channel id closes what joined the old one; the old id no longer joins', async () => {
    const user = await signUpAndLogIn(apiA);
    const own = track(await connectUser(b.url, { token: user.accessToken }));
    const listener = track(await connectUser(a.url));
    expect(await listener.socket.emitWithAck('channel', user.channel)).toMatchObject({ ok: true });
    const rotated = await apiA.post('/api/v1/user/channel/rotate', undefined, { token: user.accessToken });
    expect(rotated.body.channel).toMatch(/^[0-9a-f]{32}$/);
    expect(rotated.body.channel).not.toBe(user.channel);
    for (const socket of [own, listener]) {
      expect(await socket.waitFor('force_logout', undefined, 1000)).toEqual({ reason: 'channel_rotated' });
    }
    const again = track(await connectUser(b.url, { token: user.accessToken }));
    expect(again.received[0].args[0]).toMatchObject({ channel: rotated.body.channel });
    expect(await again.socket.emitWithAck('channel', user.channel)).toMatchObject({ ok: false });
  });
});

describe('strict deployment: SINGLE_SOCKET_PER_USER, CHANNEL_ID_AUTH=false, short tokens', () => {
  let c: AppProcess;
  let d: AppProcess;
  let apiC: Client;

  beforeAll(async () => {
    const env = testEnv({
      REDIS_PREFIX: isolatedRedisPrefix(),
      SINGLE_SOCKET_PER_USER: 'true',
      CHANNEL_ID_AUTH: 'false',
      JWT_ACCESS_TTL: '10',
      ROLE: 'api',
    });
    [c, d] = await Promise.all([spawnApp({ env }), spawnApp({ env })]);
    apiC = client(c.url);
  });

  afterAll(async () => {
    await Promise.all([c?.stop(), d?.stop()]);
  });

  it('replaces the older socket on the other instance with force_logout "replaced"', async () => {
    const user = await signUpAndLogIn(apiC);
    const older = track(await connectUser(c.url, { token: user.accessToken }));
    const newer = track(await connectUser(d.url, { token: user.accessToken }));
    expect(await older.waitFor('force_logout', undefined, 1000)).toEqual({ reason: 'replaced' });
    await older.waitFor('disconnect', undefined, 1000);
    await sleep(200);
    expect(newer.socket.connected).toBe(true);
    // More than the plan's 5 in a row: each replaces the last, none is refused.
    for (let i = 0; i < 6; i += 1) track(await connectUser(i % 2 ? c.url : d.url, { token: user.accessToken }));
  });

  it('refuses sockets without credentials and channels of other users', async () => {
    expect(await refusedConnect(c.url)).toMatchObject({
      message: 'unauthorized',
      data: { message: 'credentials are required' },
    });
    const [owner, other] = [await signUpAndLogIn(apiC), await signUpAndLogIn(apiC)];
    const socket = track(await connectUser(d.url, { token: other.accessToken }));
    expect(await socket.socket.emitWithAck('channel', owner.channel)).toMatchObject({
      ok: false,
      error: { code: 'SUBSCRIPTION_FAILED', message: 'not your channel' },
    });
    expect(await socket.socket.emitWithAck('channel', other.channel)).toMatchObject({ ok: true });
  });

  it('warns with auth_expiring, continues after refresh, and closes with "expired" at expiry', async () => {
    const user = await signUpAndLogIn(apiC);
    const socket = track(await connectUser(c.url, { token: user.accessToken }));
    const warning = await socket.waitFor('auth_expiring', undefined, 2000);
    expect(warning.expires_in).toBeLessThanOrEqual(10);
    await sleep(2000);
    const fresh = await apiC.post('/api/v1/auth/refresh', { refresh_token: user.refreshToken });
    const refreshed = await socket.socket.emitWithAck('refresh', { access_token: fresh.body.access_token });
    expect(refreshed).toMatchObject({
      type: 'success',
      data: { message: 'token refreshed', data: { expires_in: expect.any(Number) } },
    });
    const refreshedAt = Date.now();
    const stranger = await signUpAndLogIn(apiC);
    expect(await socket.socket.emitWithAck('refresh', { access_token: stranger.accessToken })).toMatchObject({
      data: { code: 'UNAUTHORIZED' },
    });
    expect(await socket.waitFor('force_logout', undefined, 12_000)).toEqual({ reason: 'expired' });
    // It lived past the first token's expiry, on the refreshed one.
    expect(Date.now() - refreshedAt).toBeGreaterThan(7000);
    await socket.waitFor('disconnect', undefined, 1000);
  }, 30_000);
});

describe('graceful shutdown', () => {
  it('pushes request_reconnect to its sockets, closes them, and refuses no work in flight', async () => {
    const e = await spawnApp({ env: testEnv({ ROLE: 'api' }) });
    const user = await signUpAndLogIn(client(e.url));
    const socket = await connectUser(e.url, { token: user.accessToken });
    const pub = await connect(e.url, { namespace: '/public' });
    const exit = e.stop('SIGTERM');
    for (const s of [socket, pub]) {
      expect(await s.waitFor('request_reconnect', undefined, 2000)).toEqual({ reason: 'shutdown' });
      await s.waitFor('disconnect', undefined, 2000);
    }
    expect(await exit).toBe(0);
  });
});

/** Speaks engine.io/socket.io by hand over a raw WebSocket; resolves with the frames received. */
function rawSocketIo(
  port: number,
  onFrame: (ws: WebSocket, frame: string) => void,
  onClose?: (code: number) => void,
): Promise<string[]> {
  return new Promise((resolve) => {
    const frames: string[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/socket.io/?EIO=4&transport=websocket`);
    const done = () => {
      ws.close();
      resolve(frames);
    };
    ws.on('message', (data: Buffer) => {
      const frame = data.toString();
      frames.push(frame);
      if (frame.startsWith('0')) ws.send('40/user,{}');
      if (frame === '2') ws.send('3');
      onFrame(ws, frame);
      if (frame.startsWith('43/')) done();
    });
    ws.on('close', (code) => {
      onClose?.(code);
      resolve(frames);
    });
    setTimeout(done, 3000);
  });
}
