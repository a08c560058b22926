// What the ledger bench (run.mjs) and its breakdown (breakdown.mjs) share: the service started with
// a bench admin, users signed up and funded, their wallet ids, their sockets, the transfer through
// the service, the load loop, and the service's histograms read from /metrics.
import pg from 'pg';
import { createUsers, fundUsers, logIn, startCashier } from '../support/cashier.mjs';
import { openManyLean } from '../support/lean-socket.mjs';
import { onCleanup } from '../support/lifecycle.mjs';
import { msSince } from '../support/stats.mjs';

export const ADMIN = { email: 'bench-admin@bench.example.com', password: 'bench-admin-password-1234' };
const PASSWORD = 'bench-password-1234';
export const HOT_ACCOUNT_SHARDS = 8; // src/modules/accounts/accounts.service.ts

export { checkOpenFileLimit } from '../support/measure.mjs';

/**
 * `instances` service processes (ROLE=api, pools of `poolSize`), stopped at clean-up; a death
 * aborts the run. `nodeArgs` are added to each one's node options.
 */
export async function startCashiers(run, { instances, poolSize, log, abort, nodeArgs = [] }) {
  const cashiers = [];
  for (let i = 0; i < instances; i++) {
    const instance = await startCashier(run, {
      log,
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, DATABASE_POOL_SIZE: String(poolSize) },
      nodeArgs,
    });
    onCleanup(`stop cashier ${i}`, () => instance.proc.stop());
    instance.proc.died.catch(abort);
    cashiers.push(instance);
  }
  return cashiers;
}

/** A pool of the bench's own (2 connections) on the run's database, closed at clean-up. */
export function benchPool(run) {
  const db = new pg.Pool({ connectionString: run.databaseUrl, max: 2 });
  onCleanup('close bench database pool', () => db.end());
  return db;
}

/**
 * Signs up `count` users and credits each `funding` (minor units) of `currency` by an admin
 * adjustment; returns them (id, channel, token) and the admin's token.
 */
export async function createFundedUsers(url, run, { count, currency, funding, log }) {
  log(`creating ${count} users`);
  const users = await createUsers(url, run.redisPrefix, count, { password: PASSWORD, log });
  for (const user of users) user.id = String(user.id);
  const adminToken = await logIn(url, ADMIN.email, ADMIN.password);
  log(`funding ${count} users`);
  await fundUsers(url, adminToken, users, currency, (funding / 100n).toString());
  return { users, adminToken };
}

/** Sets each user's `field` (`walletId`) to its wallet in `currency`; returns that currency's fee account shards. */
export async function walletIds(db, users, currency, field = 'walletId') {
  const { rows: wallets } = await db.query(
    `SELECT owner_user_id, id FROM accounts WHERE kind = 'user_wallet' AND currency = $1`,
    [currency],
  );
  const walletOf = new Map(wallets.map((r) => [String(r.owner_user_id), String(r.id)]));
  for (const user of users) {
    user[field] = walletOf.get(user.id);
    if (!user[field]) throw new Error(`user ${user.id} has no ${currency} wallet`);
  }
  const { rows: shards } = await db.query(
    `SELECT shard, id FROM accounts WHERE kind = 'fee_revenue' AND currency = $1 ORDER BY shard`,
    [currency],
  );
  if (shards.length !== HOT_ACCOUNT_SHARDS) {
    throw new Error(`expected ${HOT_ACCOUNT_SHARDS} fee shards, found ${shards.length}`);
  }
  return shards.map((r) => String(r.id));
}

/** One authenticated lean socket per user on the service (spread over `cashiers`), as `user.socket`. */
export async function openCashierSockets(cashiers, users) {
  const { sockets } = await openManyLean(
    (i) => cashiers[i % cashiers.length].url,
    users.length,
    (i) => ({ auth: { token: users[i].token }, readyEvent: 'connected' }),
  );
  for (const [i, user] of users.entries()) user.socket = sockets[i];
  return sockets;
}

/**
 * A transfer through the service: the `transfer` request on the sender's socket, until its ack
 * (the lean socket rejects it after 30 s without one). `{receipt}` when it was done, `{refused}`
 * (the error code) when not.
 */
export function cashierTransfer({ amount, currency }) {
  const major = Number(amount) / 100;
  return async (from, to) => {
    const reply = await from.socket.emitWithAck('transfer', { to_user_id: to.id, amount: major, currency });
    if (reply?.type !== 'success') return { refused: reply?.data?.code ?? 'BAD_ACK' };
    return { receipt: reply.data.data.receipt_code };
  };
}

/**
 * Keeps `inFlight` transfers going for `seconds`, each on a pair from `pick()`; `onDone(from, to,
 * receipt, sent)` hears each one done (sent: its hrtime). Returns the done ones, the seconds, their
 * latencies (ms) and the refusals by code.
 */
export async function drive(transfer, pick, { seconds, inFlight, onDone }) {
  const latencies = [];
  const refusals = {};
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  const worker = async () => {
    while (process.hrtime.bigint() < deadline) {
      const [from, to] = pick();
      const sent = process.hrtime.bigint();
      const { refused, receipt } = await transfer(from, to);
      if (refused) {
        refusals[refused] = (refusals[refused] ?? 0) + 1;
      } else {
        latencies.push(msSince(sent));
        onDone?.(from, to, receipt, sent);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { acked: latencies.length, seconds: msSince(started) / 1000, latencies, refusals };
}

/**
 * The sums and counts of histograms `names` (e.g. ledger_posting_batch_size) from the services'
 * /metrics, added up over the instances: `{ [name]: { sum, count } }`.
 */
export async function histogramTotals(cashiers, names) {
  const totals = Object.fromEntries(names.map((name) => [name, { sum: 0, count: 0 }]));
  for (const { url } of cashiers) {
    const text = await (await globalThis.fetch(`${url}/metrics`)).text();
    const read = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    for (const name of names) {
      totals[name].sum += read(`${name}_sum`);
      totals[name].count += read(`${name}_count`);
    }
  }
  return totals;
}

/**
 * A counter's values by its one label (e.g. ledger_posting_batches_total by path) from the
 * services' /metrics, added up over the instances: `{ [label value]: n }`.
 */
export async function counterTotals(cashiers, name) {
  const totals = {};
  for (const { url } of cashiers) {
    const text = await (await globalThis.fetch(`${url}/metrics`)).text();
    for (const [, value, n] of text.matchAll(new RegExp(`^${name}\\{\\w+="([^"]*)"\\} (\\S+)$`, 'gm'))) {
      totals[value] = (totals[value] ?? 0) + Number(n);
    }
  }
  return totals;
}

/** What a counter of counterTotals did between two readings. */
export function counterDelta(before, after) {
  return Object.fromEntries(Object.entries(after).map(([value, n]) => [value, n - (before[value] ?? 0)]));
}

/** What happened to histograms between two readings of histogramTotals. */
export function histogramDelta(before, after) {
  return Object.fromEntries(
    Object.keys(after).map((name) => [
      name,
      { sum: after[name].sum - before[name].sum, count: after[name].count - before[name].count },
    ]),
  );
}

const randomIndex = (n) => Math.floor(Math.random() * n);

/** Each transfer from a random user to another random user. */
export function uniformPair(users) {
  return () => {
    const from = randomIndex(users.length);
    const to = (from + 1 + randomIndex(users.length - 1)) % users.length;
    return [users[from], users[to]];
  };
}

/** Every transfer into the first user, from a random one of the others. */
export function hotPair(users) {
  const [receiver, ...senders] = users;
  return () => [senders[randomIndex(senders.length)], receiver];
}
