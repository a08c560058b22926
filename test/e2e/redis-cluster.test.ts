// The service on a Redis Cluster (REDIS_CLUSTER=true): a local cluster of three masters, two API
// processes and a worker. Events, control messages and socket.io's fetchSockets cross instances
// over sharded pub/sub; replay with since is exact; a deposit goes round through BullMQ, the
// sandbox partner and its webhook; health answers; keys and shard channels are spread over the
// masters, all under REDIS_PREFIX; subscriptions come back after Redis drops them; processes stop
// cleanly.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { signUpAndLogIn } from '../helpers/factories.js';
import { client, type Client } from '../helpers/http.js';
import { keysOf, startRedisCluster, type LocalCluster } from '../helpers/redis-cluster.js';
import { connectUser, type TestSocket } from '../helpers/sockets.js';

const ADMIN = { email: 'cluster-admin@example.com', password: 'cluster admin password' };
const PREFIX = isolatedRedisPrefix();
let cluster: LocalCluster;
let a: AppProcess;
let b: AppProcess;
let worker: AppProcess;
let apiA: Client;
let apiB: Client;
let adminToken: string;
const sockets: TestSocket[] = [];

const track = (socket: TestSocket): TestSocket => {
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

/** A request over socket.io, answered with its envelope. */
const ask = (socket: TestSocket, type: string, data: unknown): Promise<any> =>
  socket.socket.timeout(10_000).emitWithAck(type, data);

const seqs = (socket: TestSocket, channel: string) =>
  socket
    .frames()
    .filter((f) => f.channel === channel)
    .map((f) => f.seq);

beforeAll(async () => {
  const started = Date.now();
  cluster = await startRedisCluster(3);
  const env = testEnv({
    REDIS_CLUSTER: 'true',
    REDIS_URL: cluster.url,
    REDIS_PREFIX: PREFIX,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    SANDBOX_WEBHOOK_SECRET: 'cluster-e2e-sandbox-webhook-secret',
    SANDBOX_DELAY_MS: '200',
  });
  [a, b] = await Promise.all([spawnApp({ env: { ...env, ROLE: 'api' } }), spawnApp({ env: { ...env, ROLE: 'api' } })]);
  // The worker's partner jobs call the sandbox partner on A, which posts its webhook to A.
  worker = await spawnApp({ env: { ...env, SANDBOX_URL: a.url }, entry: 'worker' });
  apiA = client(a.url);
  apiB = client(b.url);
  adminToken = (await apiA.post('/api/v1/auth/login', ADMIN)).body.access_token;
  console.log(`redis cluster on ${cluster.ports.join(', ')} and three processes up in ${Date.now() - started} ms`);
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await Promise.all([a?.stop(), b?.stop(), worker?.stop()]);
  await cluster?.stop();
});

describe('start-up', () => {
  it('refuses a Redis that is not what REDIS_CLUSTER says, with one line naming REDIS_URL', async () => {
    const unformed = await startRedisCluster(1, { join: false });
    try {
      const refusal = async (extra: Record<string, string>) => {
        const app = await spawnApp({
          env: testEnv({ ...extra, REDIS_PREFIX: PREFIX, DATABASE_CONNECT_TIMEOUT_MS: '1000' }),
          waitForReady: false,
        });
        expect(await app.exited).toBe(1);
        return app
          .output()
          .split('\n')
          .filter((line) => line.startsWith('cashier: '));
      };
      const [standaloneAtNode, clusterAtStandalone, clusterWithoutSlots] = await Promise.all([
        refusal({ REDIS_URL: `redis://127.0.0.1:${cluster.ports[0]}` }),
        refusal({ REDIS_CLUSTER: 'true', REDIS_URL: inject('redisUrl') }),
        refusal({ REDIS_CLUSTER: 'true', REDIS_URL: unformed.url }),
      ]);
      expect(standaloneAtNode).toEqual(['cashier: REDIS_URL: is a Redis Cluster node: set REDIS_CLUSTER=true']);
      expect(clusterAtStandalone).toEqual([
        expect.stringMatching(/^cashier: REDIS_URL: cannot connect to Redis Cluster/),
      ]);
      expect(clusterWithoutSlots).toEqual([
        expect.stringMatching(/^cashier: REDIS_URL: cannot connect to Redis Cluster .*slots assigned/),
      ]);
    } finally {
      await unformed.stop();
    }
  });
});

describe('on a Redis Cluster', () => {
  it('delivers an event published through one API instance to a socket on the other', async () => {
    const [x, y] = [await signUpAndLogIn(apiA), await signUpAndLogIn(apiB)];
    const sx = track(await connectUser(b.url, { token: x.accessToken }));
    const sy = track(await connectUser(b.url, { token: y.accessToken }));
    await push(x.userId, 'payment', { PaymentId: 'cluster_1', Amount: 100 });
    expect(await sx.waitFor('stream', (f) => f.event === 'payment')).toMatchObject({
      channel: x.channel,
      seq: 1,
      payload: { PaymentId: 'cluster_1', Amount: 100 },
    });
    await push(y.userId, 'marker');
    await sy.waitFor('stream', (f) => f.event === 'marker');
    expect(sx.frames().map((f) => f.event)).toEqual(['payment']);

    // socket.io's sharded adapter: A lists the socket held by B (fetchSockets across instances).
    const users = await apiA.get('/api/v1/ws/connected-users', { token: adminToken });
    expect(users.body.user_ids).toEqual(expect.arrayContaining([x.userId, y.userId]));
    // The control and revocation channels: a force-logout through A closes the socket on B.
    await apiA.post(`/api/v1/admin/users/${x.userId}/force-logout`, undefined, { token: adminToken });
    expect(await sx.waitFor('force_logout', undefined, 3000)).toMatchObject({ reason: 'revoked' });
    await sx.waitFor('disconnect', undefined, 3000);
  });

  it('replays with auth.since exactly the seqs missed while disconnected, then goes live', async () => {
    const user = await signUpAndLogIn(apiA);
    const first = track(await connectUser(b.url, { token: user.accessToken }));
    for (let i = 1; i <= 3; i += 1) await push(user.userId, 'tick', { i });
    await first.waitFor('stream', (f) => f.seq === 3);
    first.close();

    for (let i = 4; i <= 10; i += 1) await push(user.userId, 'tick', { i });
    const resumed = track(await connectUser(a.url, { token: user.accessToken, since: 3 }));
    await resumed.waitFor('stream', (f) => f.seq === 10);
    await push(user.userId, 'tick', { i: 11 });
    await resumed.waitFor('stream', (f) => f.seq === 11);
    expect(seqs(resumed, user.channel)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(resumed.frames().map((f) => f.payload.i)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('completes a deposit: socket on B, job through BullMQ to the worker, partner webhook on A, events back on B', async () => {
    const user = await signUpAndLogIn(apiB);
    const socket = track(await connectUser(b.url, { token: user.accessToken }));
    const reply = await ask(socket, 'deposit_request', { amount: 100, currency: 'USD', service: 'mpesa' });
    expect(reply).toMatchObject({ type: 'success', data: { message: 'deposit request created' } });
    const { request_ref: ref, payment_id: paymentId } = reply.data.data;
    expect(await ask(socket, 'channel', { channel: paymentId, since: 0 })).toMatchObject({ ok: true });

    const completed = await socket.waitFor(
      'stream',
      (f) => f.event === 'deposit_completed' && f.payload.transaction_ref === ref,
      15_000,
    );
    expect(completed.payload).toMatchObject({ amount: 100, currency: 'USD', user_balance: 99, fee_amount: 1 });
    await socket.waitFor('stream', (f) => f.event === 'transaction_completed');
    await socket.waitFor('stream', (f) => f.event === 'balance' && f.payload.balance === 99);
    await socket.waitFor('stream', (f) => f.channel === paymentId && f.payload.status === 'completed');
    const payments = seqs(socket, paymentId);
    expect(payments).toEqual(payments.map((_, i) => i + 1));
    const status = await ask(socket, 'get_deposit_status', { request_ref: ref });
    expect(status.data.data).toMatchObject({ request_ref: ref, status: 'completed' });
  });

  it('answers GET /api/v1/health with 200 on both instances', async () => {
    for (const api of [apiA, apiB]) {
      const health = await api.get('/api/v1/health');
      expect(health.status, JSON.stringify(health.body)).toBe(200);
      expect(health.body.info).toMatchObject({ redis: { status: 'up' }, queues: { status: 'up' } });
    }
  });

  it('spreads keys and shard channels over the masters, every one under REDIS_PREFIX', async () => {
    // The service keeps writing and expiring keys: read a node's keys while its size holds still.
    const steadyKeys = async (node: Parameters<Parameters<typeof cluster.eachNode>[0]>[0]) => {
      for (let attempt = 1; ; attempt++) {
        const size = await node.dbsize();
        const keys = await keysOf(node);
        if ((await node.dbsize()) === size || attempt === 10) return { size, keys };
      }
    };
    const perNode = await cluster.eachNode(async (node, port) => ({
      port,
      ...(await steadyKeys(node)),
      shardChannels: (await node.pubsub('SHARDCHANNELS', '*')) as string[],
      channels: (await node.pubsub('CHANNELS', '*')) as string[],
    }));
    const summary = perNode.map((n) => `${n.port}: ${n.size} keys, ${n.shardChannels.length} shard channels`);
    console.log(`redis cluster: ${summary.join('; ')}`);

    // Keys on at least two masters, and nothing outside this run's prefix.
    expect(perNode.filter((n) => n.size > 0).length).toBeGreaterThanOrEqual(2);
    for (const node of perNode) {
      expect(node.keys).toHaveLength(node.size);
      expect(node.keys.filter((key) => !key.startsWith(`${PREFIX}:`))).toEqual([]);
    }
    // BullMQ's keys share one hash tag, so they sit on one master.
    const bull = perNode.filter((n) => n.keys.some((key) => key.startsWith(`${PREFIX}:{bull}:`)));
    expect(bull).toHaveLength(1);
    // Pub/sub is sharded only: the bus, control and revocation channels and socket.io's, on two
    // or more masters; no classic channel.
    const shardChannels = perNode.flatMap((n) => n.shardChannels);
    expect(shardChannels).toEqual(
      expect.arrayContaining([
        `${PREFIX}:realtime:events`,
        `${PREFIX}:realtime:control`,
        `${PREFIX}:credential-revoked`,
        `${PREFIX}:socket.io#/user#`,
      ]),
    );
    expect(shardChannels.every((channel) => channel.startsWith(`${PREFIX}:`))).toBe(true);
    expect(perNode.filter((n) => n.shardChannels.length > 0).length).toBeGreaterThanOrEqual(2);
    expect(perNode.flatMap((n) => n.channels)).toEqual([]);
  });

  it('subscribes again when Redis drops the subscriber connections, and catches up what it missed', async () => {
    const user = await signUpAndLogIn(apiA);
    const socket = track(await connectUser(b.url, { token: user.accessToken }));
    await push(user.userId, 'before');
    await socket.waitFor('stream', (f) => f.seq === 1);

    const killed = await cluster.eachNode(async (node) => Number(await node.client('KILL', 'TYPE', 'pubsub')));
    expect(killed.reduce((sum, n) => sum + n, 0)).toBeGreaterThanOrEqual(2);
    await push(user.userId, 'during'); // possibly while B has no subscription: caught up from the outbox
    await expect.poll(() => b.output().includes('realtime bus reconnected'), { timeout: 10_000 }).toBe(true);
    await push(user.userId, 'after');
    await socket.waitFor('stream', (f) => f.event === 'after', 5000);
    expect(seqs(socket, user.channel)).toEqual([1, 2, 3]);
  });

  it('stops cleanly: every process exits 0, no Redis error or unhandled rejection logged', async () => {
    expect(await Promise.all([a.stop(), b.stop(), worker.stop()])).toEqual([0, 0, 0]);
    for (const child of [a, b, worker]) {
      const warnings = child.output().match(/.*"level":"(warn|error|fatal)".*/g) ?? [];
      expect(warnings.filter((line) => /redis|unhandled/i.test(line))).toEqual([]);
    }
  });
});
