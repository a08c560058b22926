// `/ws?token=` (seed 002, contract section 7) against two API processes (A also runs the worker):
// seed 002's onmessage client receiving its deposits' status changes after partner webhooks (the
// median webhook → frame latency printed and held under the seed's 100 ms), withdrawals too,
// `?since=` replay, the test push reaching only the caller, and the REST beside the socket.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { signWebhook } from '../../src/modules/partners/webhook-signature.js';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { signUpAndLogIn, type SignedIn } from '../helpers/factories.js';
import { client, type Client } from '../helpers/http.js';
import { openPlain, type PlainClient } from '../helpers/plain-ws.js';
import { connectUser, type TestSocket } from '../helpers/sockets.js';

const ADMIN = { email: 'plain-payments-admin@example.com', password: 'plain payments admin password' };
const SECRET = 'plain-payments-sandbox-webhook-secret';
const MPESA = 'PTN-MPESA';

let a: AppProcess;
let b: AppProcess;
let api: Client;
let adminToken: string;
const closers: (() => void)[] = [];

const wsUrl = (app: AppProcess, query: string) => `ws://127.0.0.1:${app.port}/ws?${query}`;

async function updates(app: AppProcess, token: string, query = ''): Promise<PlainClient> {
  const plain = await openPlain(wsUrl(app, `token=${encodeURIComponent(token)}${query}`));
  closers.push(() => plain.close());
  return plain;
}

async function userSocket(user: SignedIn): Promise<TestSocket> {
  const socket = await connectUser(a.url, { token: user.accessToken });
  closers.push(() => socket.close());
  return socket;
}

async function deposit(socket: TestSocket, amount: string): Promise<{ request_ref: string; payment_id: string }> {
  const reply = await socket.socket
    .timeout(10_000)
    .emitWithAck<any>('deposit_request', { amount, currency: 'USD', service: 'mpesa' });
  expect(reply.type, JSON.stringify(reply)).toBe('success');
  return reply.data.data;
}

/** The partner's signed webhook, as the sandbox would send it. */
async function webhook(ref: string, type: string, amount: string, extra: Record<string, unknown> = {}) {
  const raw = JSON.stringify({
    event_id: randomBytes(8).toString('hex'),
    type,
    request_ref: ref,
    partner_reference: `SBX-${ref}`,
    amount,
    currency: 'USD',
    ...extra,
  });
  const response = await fetch(`${a.url}/api/v1/webhooks/partners/${MPESA}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-signature': signWebhook(SECRET, Math.floor(Date.now() / 1000), raw),
    },
    body: raw,
  });
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  const env = testEnv({
    REDIS_PREFIX: isolatedRedisPrefix(),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    SANDBOX_WEBHOOK_SECRET: SECRET,
    // The sandbox answers long after each test: these webhooks are the test's own.
    SANDBOX_DELAY_MS: '120000',
  });
  [a, b] = await Promise.all([spawnApp({ env }), spawnApp({ env: { ...env, ROLE: 'api' } })]);
  api = client(a.url);
  adminToken = (await api.post('/api/v1/auth/login', ADMIN)).body.access_token;
});

afterAll(async () => {
  for (const close of closers) close();
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('/ws', () => {
  it('pushes every status change of a deposit to seed 002’s onmessage client, within 100 ms of the webhook', async () => {
    const user = await signUpAndLogIn(api);
    const socket = await userSocket(user);
    // Seed 002, "Connect to WebSocket", as written there (`ws`'s WebSocket stands in for the browser's).
    const received: any[] = [];
    let notify: (() => void) | undefined;
    const ws = new WebSocket(wsUrl(b, `token=${user.accessToken}`));
    closers.push(() => ws.close());
    const opened = new Promise<void>((resolve) => {
      ws.onopen = () => {
        console.log('Connected!');
        resolve();
      };
    });
    ws.onmessage = (event) => {
      const update = JSON.parse((event.data as Buffer).toString('utf8'));
      received.push(update);
      notify?.();
    };
    await opened;
    const frameFor = (ref: string, status: string) =>
      new Promise<any>((resolve) => {
        const look = () => {
          const found = received.find((u) => u.OrderReferenceId === ref && u.Status === status);
          if (found) resolve(found);
          return found;
        };
        if (look()) return;
        const previous = notify;
        notify = () => {
          previous?.();
          look();
        };
      });

    const latencies: number[] = [];
    for (let i = 0; i < 15; i++) {
      const { request_ref: ref, payment_id: paymentId } = await deposit(socket, '10.00');
      const pending = await frameFor(ref, 'pending');
      expect(pending).toEqual({
        PaymentId: paymentId,
        Status: 'pending',
        Amount: 10,
        OrderReferenceId: ref,
        Currency: 'USD',
        seq: expect.any(Number),
      });
      const completed = frameFor(ref, 'completed');
      const sent = performance.now();
      await webhook(ref, 'deposit.completed', '10.00');
      const frame = await completed;
      latencies.push(performance.now() - sent);
      expect(frame).toMatchObject({ PaymentId: paymentId, Amount: 10, Currency: 'USD' });
      expect(frame.seq).toBeGreaterThan(pending.seq);
    }
    latencies.sort((x, y) => x - y);
    const median = latencies[Math.floor(latencies.length / 2)];
    console.log(
      `seed 002: webhook → /ws frame on the other instance: median ${median.toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`,
    );
    expect(median).toBeLessThan(100);
    // In order, no gaps, nothing twice: the payments stream's seqs as the client saw them.
    const seqs = received.map((u) => u.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));
  });

  it('pushes a failed deposit, and replays exactly what was missed with ?since=, then live', async () => {
    const user = await signUpAndLogIn(api);
    const socket = await userSocket(user);
    const first = await updates(a, user.accessToken);
    const { request_ref: ref } = await deposit(socket, '20.00');
    await first.waitFor((f) => f.OrderReferenceId === ref && f.Status === 'pending');
    // The worker hands the deposit to the partner (its own frame) before the partner can answer.
    const sent = await first.waitFor((f) => f.OrderReferenceId === ref && f.Status === 'sent_to_partner');
    first.close();
    await first.closed;

    // While no /ws connection is open: the deposit fails, a second one is made.
    await webhook(ref, 'deposit.failed', '20.00', { error: 'Payment timeout' });
    const second = await deposit(socket, '30.00');
    const resumed = await updates(b, user.accessToken, `&since=${sent.seq}`);
    const failed = await resumed.waitFor((f) => f.OrderReferenceId === ref && f.Status === 'failed');
    const created = await resumed.waitFor((f) => f.OrderReferenceId === second.request_ref);
    expect(failed.seq).toBe(sent.seq + 1);
    expect(created).toMatchObject({ Status: 'pending', Amount: 30, seq: sent.seq + 2 });
    // Then the second deposit goes to the partner: live, right after the replay, nothing twice.
    await resumed.waitFor((f) => f.OrderReferenceId === second.request_ref && f.Status === 'sent_to_partner');
    const seqs = resumed.frames.filter((f) => f.seq !== undefined).map((f) => f.seq);
    expect(seqs).toEqual([sent.seq + 1, sent.seq + 2, sent.seq + 3]);
  });

  it('answers ping, refuses what it does not take without closing, and a bad token before the upgrade', async () => {
    const user = await signUpAndLogIn(api);
    const plain = await updates(a, user.accessToken);
    plain.send({ type: 'ping' });
    expect(await plain.waitFor((f) => f.type === 'pong')).toEqual({ type: 'pong', timestamp: expect.any(Number) });
    for (const raw of ['not json', '[1]', 'null', '{"type":"subscribe","channel":"x"}']) {
      const before = plain.frames.length;
      plain.sendRaw(raw);
      await plain.waitFor((f) => plain.frames.indexOf(f) >= before && f.type === 'error');
    }
    expect(plain.frames.filter((f) => f.type === 'error').map((f) => f.code)).toEqual(Array(4).fill('INVALID_REQUEST'));
    plain.send({ type: 'ping' });
    await plain.waitFor((f) => f.type === 'pong' && plain.frames.indexOf(f) > 1);

    for (const query of ['', 'token=', 'token=not-a-token']) {
      const refused = await openPlain(wsUrl(a, query)).then(
        () => undefined,
        (error: { status: number; body: unknown }) => error,
      );
      expect(refused?.status).toBe(401);
      expect(refused?.body).toEqual({
        status_code: 401,
        message: expect.any(String),
        code: 'UNAUTHORIZED',
        trace_id: expect.stringMatching(/^[0-9a-f]{16}$/),
        data: null,
      });
    }
  });

  it('sends test-notification to the caller’s own /ws connections only, on every instance', async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(api), signUpAndLogIn(api)]);
    const aliceA = await updates(a, alice.accessToken);
    const aliceB = await updates(b, alice.accessToken);
    const bobA = await updates(a, bob.accessToken);
    const body = { PaymentId: 'test_123', Status: 'authorized', Amount: 100.0 };
    const sent = await api.post('/api/websocket/test-notification', body, { token: alice.accessToken });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    expect(sent.body).toEqual({ message: 'test notification sent', delivered: 2 });
    const expected = { ...body, Amount: 100, OrderReferenceId: null, Test: true };
    expect(await aliceA.waitFor((f) => f.Test === true)).toEqual(expected);
    expect(await aliceB.waitFor((f) => f.Test === true)).toEqual(expected);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bobA.frames).toEqual([]);

    expect((await api.post('/api/websocket/test-notification', body)).status).toBe(401);
    for (const bad of [
      {},
      { ...body, Amount: '100' },
      { ...body, Amount: 1e300 },
      { ...body, PaymentId: 'x'.repeat(1000) },
      { ...body, Status: null },
    ]) {
      const refused = await api.post('/api/websocket/test-notification', bad, { token: alice.accessToken });
      expect(refused.status, JSON.stringify(bad)).toBe(400);
      expect(refused.body.code).toBe('VALIDATION_FAILED');
    }
  });

  it('serves health to anyone, and stats and connections of /ws to admins, across instances', async () => {
    const user = await signUpAndLogIn(api);
    await updates(a, user.accessToken);
    await updates(b, user.accessToken);
    const health = await api.get('/api/websocket/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({
      status: 'healthy',
      endpoint: '/ws',
      connections: expect.any(Number),
      timestamp: expect.any(Number),
    });

    expect((await api.get('/api/websocket/stats', { token: user.accessToken })).status).toBe(403);
    expect((await api.get('/api/websocket/connections')).status).toBe(401);
    const stats = await api.get('/api/websocket/stats', { token: adminToken });
    expect(stats.status).toBe(200);
    expect(stats.body.by_endpoint).toEqual({ '/ws': stats.body.connections });
    expect(stats.body.instances).toBe(2);
    // An accepted /ws connection becomes a socket.io connection a moment after its upgrade.
    const mineOf = async () => {
      const listed = await api.get('/api/websocket/connections', { token: adminToken });
      return { listed, mine: listed.body.connections.filter((c: any) => c.user_id === user.userId) };
    };
    await expect.poll(async () => (await mineOf()).mine.length).toBe(2);
    const { listed, mine } = await mineOf();
    expect(listed.body.user_ids).toContain(user.userId);
    expect(mine).toHaveLength(2);
    expect(mine.every((c: any) => c.endpoint === '/ws' && c.namespace === '/user')).toBe(true);

    // The admin views of seed 001 list them too, with their endpoint.
    const all = await api.get('/api/v1/ws/connections', { token: adminToken });
    expect(all.body.connections.filter((c: any) => c.user_id === user.userId && c.endpoint === '/ws')).toHaveLength(2);
  });
});
