// The typed client against the built service (a real process, PostgreSQL and Redis): typed replies
// and errors, idempotency keys (and a money request resent after a dropped connection moving money
// once), token refresh on auth_expiring, a snapshot lined up with as_of_seq, and the order book
// helper checking every checksum of the real /public stream.
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { spawnApp, testEnv, isolatedRedisPrefix, type AppProcess } from '../../test/helpers/app-process.js';
import { PASSWORD, signUpAndLogIn, uniqueEmail, type SignedIn } from '../../test/helpers/factories.js';
import { client as http, type Client } from '../../test/helpers/http.js';
import {
  CashierClient,
  CashierError,
  LiveState,
  logIn,
  MarketFeed,
  sessionTokens,
  type AccountsReply,
  type OrderView,
  type Reply,
  type TransferCompletedPayload,
} from '../src/index.js';

const ADMIN = { email: 'client-admin@example.com', password: 'client admin password' };
let app: AppProcess;
let api: Client;
const clients: { close(): void }[] = [];

/**
 * A connected client of the user, on a session of its own (refresh tokens rotate: two clients must
 * not share one), refreshing its token every 3 s here (see JWT_ACCESS_TTL).
 */
const open = async (user: SignedIn) => {
  const tokens = sessionTokens(app.url, await logIn(app.url, { email: user.email, password: PASSWORD }));
  const cashier = new CashierClient({ url: app.url, ...tokens, reconnectionDelay: 100 });
  clients.push(cashier);
  await cashier.connect();
  return cashier;
};

async function adminToken(): Promise<string> {
  return (await api.post('/api/v1/auth/login', ADMIN)).body.access_token;
}

async function fund(userId: string, currency: string, amount: string): Promise<void> {
  const result = await api.post(
    '/api/v1/admin/adjustments',
    { user_id: userId, currency, amount, direction: 'credit', reason: 'client test funds' },
    { token: await adminToken() },
  );
  expect(result.status, JSON.stringify(result.body)).toBe(201);
}

async function balanceOf(cashier: CashierClient, currency: string): Promise<number> {
  const { accounts } = await cashier.getAccounts();
  return accounts.find((a) => a.currency === currency)!.balance;
}

beforeAll(async () => {
  app = await spawnApp({
    env: testEnv({
      REDIS_PREFIX: isolatedRedisPrefix(),
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      // auth_expiring comes 60 s before expiry: 3 s after a login here.
      JWT_ACCESS_TTL: '63',
    }),
  });
  api = http(app.url);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await app?.stop();
});

describe('requests', () => {
  let alice: SignedIn;
  let bob: SignedIn;
  let a: CashierClient;
  let b: CashierClient;

  beforeAll(async () => {
    [alice, bob] = [await signUpAndLogIn(api), await signUpAndLogIn(api)];
    await fund(alice.userId, 'USD', '100.00');
    [a, b] = [await open(alice), await open(bob)];
  });

  it('answers transfer with its typed reply, and the receiver hears it once', async () => {
    const heard: TransferCompletedPayload[] = [];
    b.onEvent('transfer_completed', (payload) => heard.push(payload));
    const reply = await a.transfer({ to_user_id: bob.userId, amount: '10.50', currency: 'USD', description: 'lunch' });
    expectTypeOf(reply).toEqualTypeOf<Reply<'transfer'>>();
    expect(reply).toMatchObject({ amount: 10.5, fee: 0.21, currency: 'USD', receipt_code: expect.any(String) });
    expect(reply.journal_id).toBeGreaterThan(0);
    await expect.poll(() => heard.length).toBe(1);
    expect(heard[0]).toMatchObject({ receipt_code: reply.receipt_code, amount: 10.5, currency: 'USD' });
    expect(await balanceOf(b, 'USD')).toBe(10.5);
    expect(b.user.id).toBe(bob.userId);
  });

  it('throws CashierError with the stable code, message and field', async () => {
    const poor = await a
      .transfer({ to_user_id: bob.userId, amount: 1_000, currency: 'USD' })
      .catch((error: unknown) => error);
    expect(poor).toBeInstanceOf(CashierError);
    expect(poor).toMatchObject({ code: 'INSUFFICIENT_BALANCE', requestType: 'transfer' });
    expect((poor as CashierError).message).toMatch(/^insufficient balance: available \d+\.\d\d USD$/);

    const invalid = await a
      .transfer({ to_user_id: bob.userId, amount: '-5', currency: 'USD' })
      .catch((error: unknown) => error as CashierError);
    expect(invalid).toMatchObject({ code: 'VALIDATION_FAILED', field: 'amount' });

    const missing = await a.getAccountBalance({ account_number: 'ACC-USER-USD-999999999' }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
  });

  it('gives money-moving requests an idempotency key, and a repeated key moves money once', async () => {
    const sent: { type: string; body: any }[] = [];
    a.socket.onAnyOutgoing((type: string, body: unknown) => sent.push({ type, body }));
    await a.transfer({ to_user_id: bob.userId, amount: 1, currency: 'USD' });
    await a.getAccounts();
    const [transfer, read] = sent;
    expect(transfer.body.idempotency_key).toMatch(/^ck_[0-9a-f]{32}$/);
    expect(read.body).not.toHaveProperty('idempotency_key');

    const before = await balanceOf(b, 'USD');
    const key = `test-${Date.now()}`;
    const first = await a.transfer({ to_user_id: bob.userId, amount: 2, currency: 'USD' }, { idempotencyKey: key });
    const again = await a.transfer({ to_user_id: bob.userId, amount: 2, currency: 'USD' }, { idempotencyKey: key });
    expect(again).toEqual(first);
    expect(await balanceOf(b, 'USD')).toBe(before + 2);
    const conflict = await a
      .transfer({ to_user_id: bob.userId, amount: 3, currency: 'USD' }, { idempotencyKey: key })
      .catch((e: unknown) => e);
    expect(conflict).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
  });

  it('sends a money request again, with its key, when the connection drops before the reply', async () => {
    const before = await balanceOf(b, 'USD');
    const sent: any[] = [];
    a.socket.onAnyOutgoing((type: string, body: any) => {
      if (type === 'transfer') sent.push(body);
    });
    const pending = a.transfer({ to_user_id: bob.userId, amount: 4, currency: 'USD' });
    a.socket.io.engine.close(); // the transport dies with the request in flight; socket.io reconnects
    const reply = await pending;
    expect(reply.amount).toBe(4);
    expect(sent.length).toBe(2);
    expect(sent[1].idempotency_key).toBe(sent[0].idempotency_key);
    expect(await balanceOf(b, 'USD')).toBe(before + 4);
  });

  it('resumes a new client where a closed one stood (an app restarted with positions())', async () => {
    const first = await open(bob);
    await a.transfer({ to_user_id: bob.userId, amount: '0.01', currency: 'USD' });
    await expect.poll(() => first.positions().user?.seq ?? 0).toBeGreaterThan(0);
    const positions = first.positions();
    first.close();
    for (let i = 0; i < 3; i++) await a.transfer({ to_user_id: bob.userId, amount: '0.01', currency: 'USD' });

    const tokens = sessionTokens(app.url, await logIn(app.url, { email: bob.email, password: PASSWORD }));
    const resumed = new CashierClient({ url: app.url, ...tokens, resume: positions });
    clients.push(resumed);
    const seqs: number[] = [];
    const resets: unknown[] = [];
    resumed.on('frame', (frame) => seqs.push(frame.seq));
    resumed.on('reset', (info) => resets.push(info));
    const connected = await resumed.connect();
    await expect.poll(() => seqs.at(-1)).toBe(connected.seq);
    const from = positions.user!.seq;
    expect(seqs).toEqual(Array.from({ length: connected.seq! - from }, (_, i) => from + 1 + i));
    expect(seqs.length).toBeGreaterThanOrEqual(9); // three transfers: balance, transfer_completed, transaction_completed
    expect(resets).toEqual([]);
  });

  it('keeps a snapshot lined up with the stream (as_of_seq) while money moves', async () => {
    const wallets = new LiveState<Record<string, number>>(b, {
      load: async () => {
        const reply: AccountsReply = await b.getAccounts();
        return {
          state: Object.fromEntries(reply.accounts.map((w) => [w.currency, w.balance])),
          asOfSeq: reply.as_of_seq,
        };
      },
      apply: (state, frame) =>
        frame.event === 'balance'
          ? { ...state, [(frame.payload as any).currency]: (frame.payload as any).balance }
          : state,
    });
    const sending = (async () => {
      for (let i = 0; i < 5; i++) await a.transfer({ to_user_id: bob.userId, amount: '0.10', currency: 'USD' });
    })();
    await wallets.start();
    await sending;
    const expected = await balanceOf(b, 'USD');
    await expect.poll(() => wallets.state?.USD).toBe(expected);
    wallets.stop();
  });
});

describe('tokens', () => {
  it('refreshes the token on auth_expiring and keeps the socket', async () => {
    const email = uniqueEmail('refresh');
    await api.post('/api/v1/auth/signup', { email, password: PASSWORD });
    const login = await logIn(app.url, { email, password: PASSWORD });
    const tokens = sessionTokens(app.url, login);
    const cashier = new CashierClient({ url: app.url, ...tokens });
    clients.push(cashier);
    const disconnects: string[] = [];
    cashier.on('disconnected', (reason) => disconnects.push(reason));
    await cashier.connect();
    const refreshed = await new Promise<string>((resolve) => cashier.once('token', resolve));
    expect(refreshed).not.toBe(login.access_token);
    expect((await cashier.getAccounts()).count).toBe(2);
    expect(disconnects).toEqual([]);
  });
});

// BTC-USD: the demo page's test trades BTC-EUR on another instance over the same database.
describe('market', () => {
  it('keeps the book from the real /public stream, verifying every checksum, and re-joins on a mismatch', async () => {
    const [seller, buyer] = [await signUpAndLogIn(api), await signUpAndLogIn(api)];
    await fund(seller.userId, 'BTC', '2.00000000');
    await fund(buyer.userId, 'USD', '50000.00');
    const [s, b] = [await open(seller), await open(buyer)];

    const feed = new MarketFeed({ url: app.url, reconnectionDelay: 100 });
    clients.push(feed);
    const trades: number[] = [];
    const ticks: (number | null)[] = [];
    const resyncs: string[] = [];
    feed.on('trade', (t) => trades.push(t.price));
    feed.on('tick', (t) => ticks.push(t.last));
    feed.on('resync', (r) => resyncs.push(r.reason));
    feed.watch('BTC-USD');
    await feed.connect();
    await expect.poll(() => feed.state('BTC-USD')?.live).toBe(true);

    const sameAsServer = async () => {
      const depth = (await api.get('/api/v1/market/BTC-USD/depth?levels=100')).body;
      const book = feed.book('BTC-USD')!;
      return (
        book.seq === depth.seq && JSON.stringify([book.bids, book.asks]) === JSON.stringify([depth.bids, depth.asks])
      );
    };

    const orders: OrderView[] = [];
    for (let i = 0; i < 6; i++) {
      orders.push(
        await s.placeOrder({ pair: 'BTC-USD', side: 'sell', type: 'limit', amount: '0.05', price: 21000 + i * 10 }),
      );
      orders.push(
        await b.placeOrder({ pair: 'BTC-USD', side: 'buy', type: 'limit', amount: '0.01', price: `${19000 + i}.50` }),
      );
    }
    // Two takers: trades, ticks, and levels that shrink and vanish.
    await b.placeOrder({ pair: 'BTC-USD', side: 'buy', type: 'market', amount: '0.07' });
    await s.placeOrder({ pair: 'BTC-USD', side: 'sell', type: 'limit', amount: '0.015', price: 19004 });
    await b.cancelOrder({ order_id: orders[1].id });
    await expect.poll(sameAsServer, { timeout: 10_000 }).toBe(true);
    const state = feed.state('BTC-USD')!;
    expect(state.verified).toBeGreaterThanOrEqual(15);
    expect(resyncs).toEqual([]);
    await expect.poll(() => trades.length).toBeGreaterThanOrEqual(3);
    expect(trades.slice(0, 2)).toEqual([21000, 21010]);
    await expect.poll(() => ticks.length).toBeGreaterThan(0);

    // A local copy gone wrong is caught by the next update's checksum and fetched again.
    state.book.asks[0][1] += 1;
    await s.placeOrder({ pair: 'BTC-USD', side: 'sell', type: 'limit', amount: '0.02', price: 22000 });
    await expect.poll(() => resyncs).toEqual(['checksum']);
    await expect.poll(sameAsServer, { timeout: 10_000 }).toBe(true);
    expect(feed.state('BTC-USD')!.live).toBe(true);
  });
});
