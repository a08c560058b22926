// The typed client across restarts of the API process it is connected to: killed outright
// (SIGKILL) and stopped gracefully (SIGTERM: request_reconnect), each time restarted on the same
// port while another instance keeps moving money to the client's user. The app must be handed
// every event of the user channel exactly once and in order, with no reset.
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isolatedRedisPrefix, spawnApp, testEnv, type AppProcess } from '../../test/helpers/app-process.js';
import { signUpAndLogIn } from '../../test/helpers/factories.js';
import { client as http, type Client } from '../../test/helpers/http.js';
import { CashierClient, type AnyFrame } from '../src/index.js';

const ADMIN = { email: 'restart-admin@example.com', password: 'restart admin password' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let env: Record<string, string | undefined>;
let port: number;
let target: AppProcess;
let other: AppProcess;
let api: Client;
const clients: CashierClient[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: found } = server.address() as { port: number };
      server.close(() => resolve(found));
    });
  });
}

beforeAll(async () => {
  port = await freePort();
  env = testEnv({ REDIS_PREFIX: isolatedRedisPrefix(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password });
  // `target` (the client's instance) is restarted; `other` runs the API and the worker throughout.
  [target, other] = await Promise.all([
    spawnApp({ env: { ...env, PORT: String(port), ROLE: 'api' } }),
    spawnApp({ env }),
  ]);
  api = http(other.url);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all([target?.stop(), other?.stop()]);
});

it('hands on every event once and in order across a killed and a gracefully stopped instance', async () => {
  const [sender, receiver] = [await signUpAndLogIn(api), await signUpAndLogIn(api)];
  const admin = (await api.post('/api/v1/auth/login', ADMIN)).body.access_token;
  const funded = await api.post(
    '/api/v1/admin/adjustments',
    { user_id: sender.userId, currency: 'USD', amount: '1000.00', direction: 'credit', reason: 'restart test' },
    { token: admin },
  );
  expect(funded.status).toBe(201);

  const pays = new CashierClient({ url: other.url, token: sender.accessToken });
  const hears = new CashierClient({
    url: `http://127.0.0.1:${port}`,
    token: receiver.accessToken,
    reconnectionDelay: 100,
    reconnectionDelayMax: 400,
  });
  clients.push(pays, hears);
  const frames: AnyFrame[] = [];
  const resets: unknown[] = [];
  const disconnects: string[] = [];
  hears.on('frame', (frame) => frames.push(frame));
  hears.on('reset', (info) => resets.push(info));
  hears.on('disconnected', (reason) => disconnects.push(reason));
  const life: string[] = [];
  hears.on('connected', (info) => life.push(`connected ${JSON.stringify(info)}`));
  hears.on('disconnected', (reason) => life.push(`disconnected ${reason}`));
  const t0 = Date.now();
  hears.socket.on('connect_error', (e: any) =>
    life.push(`${Date.now() - t0} connect_error ${e.message} ${JSON.stringify(e.data)} active=${hears.socket.active}`),
  );
  hears.socket.io.on('reconnect_attempt', (n) => life.push(`${Date.now() - t0} attempt ${n}`));
  const start = (await hears.connect()).seq ?? 0;
  await pays.connect();

  // One cent at a time, each transfer numbered by its amount: 0.01, 0.02, ...
  let sent = 0;
  const receipts: string[] = [];
  const pay = async (count: number, pauseMs = 0) => {
    for (let i = 0; i < count; i++) {
      sent += 1;
      const reply = await pays.transfer({
        to_user_id: receiver.userId,
        amount: (sent / 100).toFixed(2),
        currency: 'USD',
      });
      receipts.push(reply.receipt_code);
      if (pauseMs) await sleep(pauseMs);
    }
  };

  for (const stop of ['SIGKILL', 'SIGTERM'] as const) {
    await pay(3);
    const during = pay(12, 40); // goes on through the stop, the downtime and the restart
    await sleep(100);
    life.push(`${Date.now() - t0} stopping ${stop}`);
    await target.stop(stop);
    await sleep(300);
    target = await spawnApp({ env: { ...env, PORT: String(port), ROLE: 'api' } });
    life.push(`${Date.now() - t0} restarted`);
    await during;
    await pay(2);
    // Back on the restarted instance before the next stop (so each stop cuts a live connection).
    await expect.poll(() => hears.connected, { timeout: 10_000 }).toBe(true);
  }

  // The user channel as the server has it now; the app must hold exactly everything after `start`.
  const { as_of_seq: latest } = await hears.getAccounts();
  await expect.poll(() => frames.length, { timeout: 15_000 }).toBe(latest - start);
  const seqs = frames.map((f) => f.seq);
  expect(seqs).toEqual(Array.from({ length: latest - start }, (_, i) => start + 1 + i));
  expect(new Set(frames.map((f) => f.channel))).toEqual(new Set([receiver.channel]));
  const completed = frames.filter((f) => f.event === 'transfer_completed').map((f) => (f.payload as any).receipt_code);
  expect(completed).toEqual(receipts);
  expect(sent).toBe(34);
  expect(resets).toEqual([]);
  // The kill cuts the transport; the graceful stop disconnects the socket (after request_reconnect).
  expect(disconnects.length, life.join('\n')).toBe(2);
  expect(disconnects[0]).toBe('transport close');
  const balance = frames.filter((f) => f.event === 'balance').at(-1)!.payload as any;
  expect(balance.balance).toBe((sent * (sent + 1)) / 2 / 100);
});
