// The exchange over the wire, two API processes (A also runs the worker): seed 004's public
// example hears trades made on the other instance; a depth client keeps an exact copy of the book
// through 1,000 random operations, checking every checksum; order events reach the user and order
// channels; the dead man's switch; bad input refused with its code, changing nothing.
// The book must start empty, so this file has a database of its own (other files trade too).
import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decimalBookChecksum } from '../../src/modules/market/engine/index.js';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../helpers/app-process.js';
import { configDirWith, withLimits } from '../helpers/config-dir.js';
import { withDb as withSharedDb } from '../helpers/db.js';
import { signUpAndLogIn, type SignedIn } from '../helpers/factories.js';
import { client, type Client } from '../helpers/http.js';
import { connect, connectUser, type TestSocket } from '../helpers/sockets.js';
import { createDatabase, dropDatabase } from '../setup/infrastructure.js';

const ADMIN = { email: 'market-admin@example.com', password: 'market admin password' };
let a: AppProcess;
let b: AppProcess;
let apiA: Client;
let adminToken: string;
const sockets: (TestSocket | Socket)[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Envelope<T = any> {
  type: 'success' | 'error';
  data: { message: string; data: T; code?: string; field?: string };
}

type Trader = SignedIn & { socket: TestSocket };

async function ask<T = any>(socket: TestSocket, type: string, data: unknown): Promise<Envelope<T>> {
  return (await socket.socket.timeout(10_000).emitWithAck(type, data)) as Envelope<T>;
}

async function trader(url: string, funds: Record<string, string>): Promise<Trader> {
  const user = await signUpAndLogIn(apiA);
  for (const [currency, amount] of Object.entries(funds)) {
    const funded = await apiA.post(
      '/api/v1/admin/adjustments',
      { user_id: user.userId, currency, amount, direction: 'credit', reason: 'market test funds' },
      { token: adminToken },
    );
    expect(funded.status, JSON.stringify(funded.body)).toBe(201);
  }
  const socket = await connectUser(url, { token: user.accessToken });
  sockets.push(socket);
  return { ...user, socket };
}

async function walletsOf(userId: string): Promise<Record<string, { balance: string; pending: string }>> {
  return withDb(async (db) => {
    const { rows } = await db.query(
      `SELECT currency, balance, pending_debit FROM accounts WHERE owner_user_id = $1 AND kind = 'user_wallet'`,
      [userId],
    );
    return Object.fromEntries(rows.map((r) => [r.currency, { balance: r.balance, pending: r.pending_debit }]));
  });
}

const database = `cashier_market_${randomBytes(4).toString('hex')}`;
let databaseUrl: string;
const withDb = <T>(fn: Parameters<typeof withSharedDb<T>>[0]) => withSharedDb(fn, databaseUrl);

beforeAll(async () => {
  databaseUrl = await createDatabase(inject('databaseServerUrl'), database);
  const env = testEnv({
    DATABASE_URL: databaseUrl,
    REDIS_PREFIX: isolatedRedisPrefix(),
    CONFIG_DIR: configDirWith({ 'plans.json': withLimits(1_000_000, 100_000, 50) }),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
  });
  [a, b] = await Promise.all([spawnApp({ env }), spawnApp({ env: { ...env, ROLE: 'api' } })]);
  apiA = client(a.url);
  adminToken = (await apiA.post('/api/v1/auth/login', ADMIN)).body.access_token;
});

afterAll(async () => {
  for (const socket of sockets) ('socket' in socket ? socket.socket : socket).close();
  await Promise.all([a?.stop(), b?.stop()]);
  await dropDatabase(inject('databaseServerUrl'), database);
});

describe('seed 004’s public example', () => {
  it('hears new-trade, tick and update-market-depth when two users trade on the other instance', async () => {
    // As in seed 004: connect to /public with path /ws/socket.io and listen to `stream`.
    const got: { event: string; channel: string; seq: number; payload: any }[] = [];
    const socket = io(`${b.url}/public`, { path: '/ws/socket.io', transports: ['websocket'], forceNew: true });
    sockets.push(socket);
    socket.on('stream', (data: (typeof got)[number]) => got.push(data));
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    // Joined at connect: the depth snapshot of every pair comes first.
    await expect.poll(() => got.filter((f) => f.event === 'market-depth-snapshot').length).toBe(2);

    const [seller, buyer] = [await trader(a.url, { BTC: '1.00000000' }), await trader(a.url, { EUR: '10000.00' })];
    const sell = await ask(seller.socket, 'place_order', {
      pair: 'BTC-EUR',
      side: 'sell',
      type: 'limit',
      amount: '0.1',
      price: '20000.50',
    });
    expect(sell).toMatchObject({ type: 'success', data: { data: { status: 'open', price: 20000.5, amount: 0.1 } } });
    const buy = await ask(buyer.socket, 'place_order', {
      pair: 'BTC-EUR',
      side: 'buy',
      type: 'market',
      amount: '0.04',
    });
    expect(buy).toMatchObject({
      type: 'success',
      data: {
        data: { status: 'filled', filled: 0.04, average_price: 20000.5, fee_currency: 'BTC', fee_paid: 0.00008 },
      },
    });

    await expect.poll(() => got.find((f) => f.event === 'new-trade')).toBeDefined();
    await expect.poll(() => got.find((f) => f.event === 'tick')).toBeDefined();
    const trade = got.find((f) => f.event === 'new-trade')!;
    expect(trade).toMatchObject({
      channel: 'trade',
      payload: { price: 20000.5, traded_btc: 0.04, currency: 'EUR', pair: 'BTC-EUR', amount: 0.04, side: 'buy' },
    });
    expect(trade.payload.timestamp).toBeGreaterThan(1e12); // milliseconds
    const depth = got.filter((f) => f.event === 'update-market-depth');
    expect(depth.map((f) => f.payload)).toEqual([
      expect.objectContaining({ category: 'sell', price: 20000.5, amount: 0.1, currency: 'EUR', pair: 'BTC-EUR' }),
      expect.objectContaining({ category: 'sell', price: 20000.5, amount: 0.06, currency: 'EUR', pair: 'BTC-EUR' }),
    ]);
    expect(got.find((f) => f.event === 'tick')!.payload).toMatchObject({ pair: 'BTC-EUR', last: 20000.5 });
    // Per channel, seqs count without gaps.
    for (const channel of ['trade', 'market-depth']) {
      const seqs = got.filter((f) => f.channel === channel && f.event !== 'market-depth-snapshot').map((f) => f.seq);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
    }

    // The money: 0.04 BTC at 20000.50 is 800.02 EUR; the buyer pays its 0.2 % taker fee in BTC, the
    // seller its 0.1 % maker fee in EUR (0.80), both rounded half up.
    expect(await walletsOf(buyer.userId)).toMatchObject({
      EUR: { balance: '919998', pending: '0' },
      BTC: { balance: '3992000', pending: '0' },
    });
    expect(await walletsOf(seller.userId)).toMatchObject({
      BTC: { balance: '96000000', pending: '6000000' },
      EUR: { balance: '79922', pending: '0' },
    });
    await ask(seller.socket, 'cancel_all_orders', {});
  });
});

describe('orders', () => {
  it('pushes order events on the user channel and the order channel, and answers get_orders and get_trades', async () => {
    const [maker, taker] = [await trader(b.url, { BTC: '1' }), await trader(a.url, { USD: '50000' })];
    const placed = await ask(maker.socket, 'place_order', {
      pair: 'BTC-USD',
      side: 'sell',
      type: 'limit',
      amount: 0.5,
      price: 30000,
      client_order_id: 'my-first-order',
    });
    expect(placed.type).toBe('success');
    const orderId = placed.data.data.id as string;
    // Anyone holding the id may follow the order's channel (seed 004).
    const follower = await connect(a.url);
    sockets.push(follower);
    expect(await follower.socket.emitWithAck('channel', orderId)).toMatchObject({ ok: true, channel: orderId });

    await ask(taker.socket, 'place_order', { pair: 'BTC-USD', side: 'buy', type: 'limit', amount: 0.2, price: 30000 });
    const onOrderChannel = await follower.waitFor('stream', (f) => f.event === 'order' && f.payload.filled === 0.2);
    expect(onOrderChannel).toMatchObject({
      channel: orderId,
      payload: { id: orderId, status: 'partially_filled', remaining: 0.3, client_order_id: 'my-first-order' },
    });
    const onUserChannel = await maker.socket.waitFor(
      'stream',
      (f) => f.event === 'order' && f.channel === maker.channel && f.payload.filled === 0.2,
    );
    expect(onUserChannel.payload).toEqual(onOrderChannel.payload);
    // Its balance events say trading.
    const balance = await maker.socket.waitFor('stream', (f) => f.event === 'balance' && f.payload.currency === 'BTC');
    expect(balance.payload.trading).toBe(true);

    const orders = await ask(maker.socket, 'get_orders', { status: 'open' });
    expect(orders.data.data).toMatchObject({ orders: [{ id: orderId, filled: 0.2 }], as_of_seq: expect.any(Number) });
    const trades = await ask(maker.socket, 'get_trades', { pair: 'BTC-USD' });
    expect(trades.data.data.trades).toEqual([
      expect.objectContaining({ order_id: orderId, role: 'maker', side: 'sell', amount: 0.2, price: 30000, fee: 6 }),
    ]);

    const cancelled = await ask(maker.socket, 'cancel_order', { client_order_id: 'my-first-order' });
    expect(cancelled.data.data).toMatchObject({ id: orderId, status: 'cancelled', filled: 0.2 });
    expect(await ask(maker.socket, 'cancel_order', { order_id: orderId })).toMatchObject({
      type: 'error',
      data: { code: 'ORDER_NOT_CANCELLABLE' },
    });
    // Nothing is held once nothing is open.
    expect((await walletsOf(maker.userId)).BTC.pending).toBe('0');
  });

  it('refuses every bad order with its code and changes nothing', async () => {
    const user = await trader(a.url, { BTC: '0.01', EUR: '100' });
    const other = await trader(b.url, { BTC: '1' });
    const theirs = await ask(other.socket, 'place_order', {
      pair: 'BTC-EUR',
      side: 'sell',
      type: 'limit',
      amount: '0.01',
      price: '90000',
    });
    const before = await walletsOf(user.userId);
    const order = (extra: Record<string, unknown>) => ({
      pair: 'BTC-EUR',
      side: 'buy',
      type: 'limit',
      amount: '0.001',
      price: '1000',
      ...extra,
    });
    const cases: [string, string, unknown, string, string?][] = [
      ['unknown pair', 'place_order', order({ pair: 'ETH-EUR' }), 'UNKNOWN_PAIR', 'pair'],
      ['price off tick', 'place_order', order({ price: '1000.005' }), 'VALIDATION_FAILED', 'price'],
      ['amount below minimum', 'place_order', order({ amount: '0.00001' }), 'VALIDATION_FAILED', 'amount'],
      ['amount off step', 'place_order', order({ amount: '0.000100001' }), 'VALIDATION_FAILED', 'amount'],
      ['amount above maximum', 'place_order', order({ amount: '1000' }), 'VALIDATION_FAILED', 'amount'],
      ['market with a price', 'place_order', order({ type: 'market' }), 'VALIDATION_FAILED', 'price'],
      ['limit without a price', 'place_order', order({ price: undefined }), 'VALIDATION_FAILED', 'price'],
      ['negative amount', 'place_order', order({ amount: -1 }), 'VALIDATION_FAILED', 'amount'],
      ['negative price', 'place_order', order({ price: '-5' }), 'VALIDATION_FAILED', 'price'],
      ['exponent', 'place_order', order({ amount: '1e-3' }), 'VALIDATION_FAILED', 'amount'],
      ['huge price', 'place_order', order({ price: '1000000000000000000000' }), 'VALIDATION_FAILED', 'price'],
      ['over the price cap', 'place_order', order({ price: '10000001' }), 'VALIDATION_FAILED', 'price'],
      ['over-precise amount', 'place_order', order({ amount: '0.000000001' }), 'VALIDATION_FAILED', 'amount'],
      ['side of the wrong type', 'place_order', order({ side: 1 }), 'VALIDATION_FAILED', 'side'],
      ['post_only not a boolean', 'place_order', order({ post_only: 'yes' }), 'VALIDATION_FAILED', 'post_only'],
      ['unknown field', 'place_order', order({ leverage: 10 }), 'VALIDATION_FAILED', 'leverage'],
      [
        'fok with post_only',
        'place_order',
        order({ time_in_force: 'fok', post_only: true }),
        'VALIDATION_FAILED',
        'post_only',
      ],
      ['post_only that would take', 'place_order', order({ price: '95000', post_only: true }), 'ORDER_WOULD_TAKE'],
      [
        'fok not fillable',
        'place_order',
        order({ price: '95000', amount: '0.02', time_in_force: 'fok' }),
        'ORDER_NOT_FILLABLE',
      ],
      [
        'market with no liquidity',
        'place_order',
        { pair: 'BTC-EUR', side: 'sell', type: 'market', amount: '0.001' },
        'NO_LIQUIDITY',
      ],
      ['more than the balance', 'place_order', order({ amount: '1', price: '1000' }), 'INSUFFICIENT_BALANCE'],
      ['another user’s order', 'cancel_order', { order_id: theirs.data.data.id }, 'ORDER_NOT_FOUND', 'order_id'],
      [
        'an order that does not exist',
        'cancel_order',
        { order_id: '00000000-0000-4000-8000-000000000000' },
        'ORDER_NOT_FOUND',
      ],
      ['cancel without an id', 'cancel_order', {}, 'VALIDATION_FAILED', 'order_id'],
    ];
    for (const [label, type, data, code, field] of cases) {
      const answer = await ask(user.socket, type, data);
      expect(answer.type, label).toBe('error');
      expect(answer.data.code, `${label}: ${answer.data.message}`).toBe(code);
      if (field) expect(answer.data.field, label).toBe(field);
    }
    // A market sell against a bid-less book, after the other's ask is gone, is refused too.
    expect(await walletsOf(user.userId)).toEqual(before);
    const orders = await ask(user.socket, 'get_orders', {});
    expect(orders.data.data.orders).toEqual([]);
    await ask(other.socket, 'cancel_all_orders', {});
  });
});

describe('the depth channel', () => {
  it('lets a client rebuild the book from its snapshot through 1,000 random operations, every checksum equal', async () => {
    const [alice, bob] = [
      await trader(a.url, { BTC: '50', USD: '5000000' }),
      await trader(b.url, { BTC: '50', USD: '5000000' }),
    ];
    const watcher = await connect(b.url, { namespace: '/public' });
    sockets.push(watcher);
    const ack = (await watcher.socket.emitWithAck('channel', 'market-depth:BTC-USD')) as { ok: boolean; seq: number };
    expect(ack.ok).toBe(true);
    const snapshot = await watcher.waitFor(
      'stream',
      (f) => f.event === 'market-depth-snapshot' && f.channel === 'market-depth:BTC-USD',
    );
    const book = { buy: new Map<number, number>(), sell: new Map<number, number>() };
    for (const [price, amount] of snapshot.payload.bids) book.buy.set(price, amount);
    for (const [price, amount] of snapshot.payload.asks) book.sell.set(price, amount);
    const sorted = () => ({
      bids: [...book.buy].sort((x, y) => y[0] - x[0]),
      asks: [...book.sell].sort((x, y) => x[0] - y[0]),
    });
    expect(decimalBookChecksum(sorted(), 2)).toBe(snapshot.payload.checksum);
    let lastSeq = snapshot.seq as number;
    let checked = 0;
    const mismatches: string[] = [];
    watcher.socket.on('stream', (frame: any) => {
      if (frame.channel !== 'market-depth:BTC-USD' || frame.event !== 'update-market-depth') return;
      if (frame.seq <= lastSeq) return; // before the snapshot
      if (frame.seq !== lastSeq + 1) mismatches.push(`gap before seq ${frame.seq}`);
      lastSeq = frame.seq;
      const side = book[frame.payload.category as 'buy' | 'sell'];
      if (frame.payload.amount === 0) side.delete(frame.payload.price);
      else side.set(frame.payload.price, frame.payload.amount);
      checked += 1;
      if (decimalBookChecksum(sorted(), 2) !== frame.payload.checksum) mismatches.push(`checksum at seq ${frame.seq}`);
    });

    const open: { owner: Trader; id: string }[] = [];
    let operations = 0;
    for (let i = 0; i < 1000; i += 1) {
      const owner = i % 2 ? alice : bob;
      const r = randomBytes(4);
      if (open.length > 0 && r[0] % 4 === 0) {
        const [victim] = open.splice(r[1] % open.length, 1);
        await ask(victim.owner.socket, 'cancel_order', { order_id: victim.id });
      } else {
        const side = r[2] % 2 ? 'buy' : 'sell';
        const market = r[3] % 10 === 0;
        const price = (29_900 + (r[1] % 200)).toFixed(2);
        const answer = await ask(owner.socket, 'place_order', {
          pair: 'BTC-USD',
          side,
          type: market ? 'market' : 'limit',
          amount: ((1 + (r[0] % 50)) / 10_000).toFixed(4),
          ...(market ? {} : { price }),
        });
        if (answer.type === 'success' && ['open', 'partially_filled'].includes(answer.data.data.status)) {
          open.push({ owner, id: answer.data.data.id });
        }
      }
      operations += 1;
    }
    expect(operations).toBe(1000);
    // The final book equals the REST depth, checksum included.
    const rest = await apiA.get('/api/v1/market/BTC-USD/depth?levels=500');
    expect(rest.status).toBe(200);
    await expect.poll(() => lastSeq, { timeout: 10_000 }).toBe(rest.body.seq);
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(500);
    expect(sorted()).toEqual({ bids: rest.body.bids, asks: rest.body.asks });
    expect(decimalBookChecksum(sorted(), 2)).toBe(rest.body.checksum);
    for (const trader of [alice, bob]) await ask(trader.socket, 'cancel_all_orders', {});
  }, 120_000);
});

describe('the public REST routes', () => {
  it('serve pairs, ticker, trades and candles, and refuse bad queries', async () => {
    const pairs = await apiA.get('/api/v1/market/pairs');
    expect(pairs.body.pairs.map((p: any) => p.symbol)).toEqual(['BTC-EUR', 'BTC-USD']);
    expect(pairs.body.pairs[0]).toMatchObject({ price_tick: '0.01', min_amount: '0.00010000', maker_fee: '0.001' });
    const ticker = await apiA.get('/api/v1/market/BTC-EUR/ticker');
    expect(ticker.body).toMatchObject({ pair: 'BTC-EUR', last: 20000.5, volume: expect.any(Number) });
    const trades = await apiA.get('/api/v1/market/BTC-EUR/trades?limit=1');
    expect(trades.body.trades).toEqual([expect.objectContaining({ price: 20000.5, amount: 0.04, side: 'buy' })]);
    const older = await apiA.get(`/api/v1/market/BTC-EUR/trades?before_id=${trades.body.trades[0].id}`);
    expect(older.body.trades).toEqual([]);
    const candles = await apiA.get('/api/v1/market/BTC-USD/candles?interval=1m');
    expect(candles.status).toBe(200);
    expect(candles.body.length).toBeGreaterThan(0);
    expect(candles.body[0]).toEqual({
      time: expect.any(Number),
      open: expect.any(Number),
      high: expect.any(Number),
      low: expect.any(Number),
      close: expect.any(Number),
      volume: expect.any(Number),
    });
    for (const [path, code] of [
      ['/api/v1/market/ETH-EUR/ticker', 404],
      ['/api/v1/market/BTC-EUR/depth?levels=1e3', 400],
      ['/api/v1/market/BTC-EUR/trades?limit=-1', 400],
      ['/api/v1/market/BTC-EUR/candles?interval=2m', 400],
      ['/api/v1/market/BTC-EUR/candles?interval=1m&from=0&to=99999999', 400],
    ] as const) {
      const result = await apiA.get(path);
      expect(result.status, path).toBe(code);
      expect(result.body.code).not.toBe('INTERNAL');
    }
  });
});

describe('cancel_on_disconnect', () => {
  it('cancels a session’s orders once its last socket has been gone 10 s, and not before', async () => {
    const user = await trader(b.url, { BTC: '1' });
    const placed = await ask(user.socket, 'place_order', {
      pair: 'BTC-EUR',
      side: 'sell',
      type: 'limit',
      amount: '0.01',
      price: '99000',
      cancel_on_disconnect: true,
    });
    expect(placed.data.data).toMatchObject({ status: 'open', cancel_on_disconnect: true });
    const status = async () =>
      withDb(
        async (db) => (await db.query(`SELECT status FROM orders WHERE id = $1`, [placed.data.data.id])).rows[0].status,
      );

    // Gone for 5 s, then back on the other instance: kept.
    user.socket.close();
    await sleep(5000);
    const back = await connectUser(a.url, { token: user.accessToken });
    sockets.push(back);
    await sleep(7000);
    expect(await status()).toBe('open');

    // Gone for good: open at 8 s, cancelled by 12 s.
    back.close();
    const gone = Date.now();
    await sleep(8000);
    expect(await status()).toBe('open');
    await expect.poll(status, { timeout: 5000, interval: 200 }).toBe('cancelled');
    expect(Date.now() - gone).toBeGreaterThanOrEqual(10_000);
    expect((await walletsOf(user.userId)).BTC.pending).toBe('0');
  }, 60_000);
});
