// The bare baseline of the ledger bench: a minimal ledger in the run's database (tables of its own,
// bare_*), the plpgsql function that posts a transfer in one round trip, the bare socket.io server
// child that calls it (bare-ledger-server.mjs), and the check of that ledger after the run.
//
// bare_transfer() does the posting the service does, on the least schema that can hold it: both
// wallets locked in id order (FOR UPDATE), the insufficient-funds check, a journal row, an entry per
// account with balance_after and the account's version (pgledger's shape), the new balances, and
// the fee credited to a fee account. The fee account is one of FEE_SHARDS shards, taken with SKIP
// LOCKED (there are more shards than connections, so it never waits): the service spreads its fee
// account over shards for the same reason. Nothing is checked at commit (no deferred triggers), no
// idempotency key, no outbox.
import { fileURLToPath } from 'node:url';
import { startNodeProcess } from './children.mjs';

const SERVER = fileURLToPath(new URL('./bare-ledger-server.mjs', import.meta.url));
const START_TIMEOUT_MS = 30_000;
/** More than the connections of the bare server's pool: a transfer always finds a free one. */
export const FEE_SHARDS = 16;
/** Fee shard ids start here, above every user id. */
const FEE_ID_BASE = 1_000_000_000_000n;

const SCHEMA = `
  CREATE TABLE bare_accounts (
    id      bigint PRIMARY KEY,
    is_fee  boolean NOT NULL DEFAULT false,
    balance bigint NOT NULL,
    version bigint NOT NULL DEFAULT 0
  );
  CREATE TABLE bare_journals (
    id           bigserial PRIMARY KEY,
    from_account bigint NOT NULL,
    to_account   bigint NOT NULL,
    amount       bigint NOT NULL,
    fee          bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE bare_entries (
    id              bigserial PRIMARY KEY,
    journal_id      bigint NOT NULL REFERENCES bare_journals (id),
    account_id      bigint NOT NULL REFERENCES bare_accounts (id),
    amount          bigint NOT NULL, -- signed: credits positive
    balance_after   bigint NOT NULL,
    account_version bigint NOT NULL,
    UNIQUE (account_id, account_version)
  );

  CREATE FUNCTION bare_transfer(p_from bigint, p_to bigint, p_amount bigint, p_fee bigint)
    RETURNS TABLE (journal_id bigint, from_balance bigint, to_balance bigint)
    LANGUAGE plpgsql AS $$
  DECLARE
    wallet record;
    locked int := 0;
    fee_id bigint;
    j bigint;
    from_bal bigint;
    from_ver bigint;
    to_bal bigint;
    to_ver bigint;
    fee_bal bigint;
    fee_ver bigint;
  BEGIN
    IF p_amount <= 0 OR p_fee < 0 OR p_from = p_to THEN
      RAISE EXCEPTION 'INVALID_REQUEST';
    END IF;
    -- In id order: two transfers never wait on each other in a cycle.
    FOR wallet IN
      SELECT id, balance FROM bare_accounts WHERE id IN (p_from, p_to) AND NOT is_fee ORDER BY id FOR UPDATE
    LOOP
      locked := locked + 1;
      IF wallet.id = p_from THEN from_bal := wallet.balance; END IF;
    END LOOP;
    IF locked <> 2 THEN RAISE EXCEPTION 'ACCOUNT_NOT_FOUND'; END IF;
    IF from_bal < p_amount + p_fee THEN RAISE EXCEPTION 'INSUFFICIENT_BALANCE'; END IF;
    IF p_fee > 0 THEN
      -- Taken after the wallets and never waited for, so it cannot take part in a deadlock.
      SELECT id INTO fee_id FROM bare_accounts WHERE is_fee ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
      IF fee_id IS NULL THEN RAISE EXCEPTION 'no free fee shard'; END IF;
    END IF;

    INSERT INTO bare_journals (from_account, to_account, amount, fee) VALUES (p_from, p_to, p_amount, p_fee)
      RETURNING id INTO j;
    UPDATE bare_accounts SET balance = balance - p_amount - p_fee, version = version + 1
     WHERE id = p_from RETURNING balance, version INTO from_bal, from_ver;
    UPDATE bare_accounts SET balance = balance + p_amount, version = version + 1
     WHERE id = p_to RETURNING balance, version INTO to_bal, to_ver;
    INSERT INTO bare_entries (journal_id, account_id, amount, balance_after, account_version)
      VALUES (j, p_from, -(p_amount + p_fee), from_bal, from_ver), (j, p_to, p_amount, to_bal, to_ver);
    IF p_fee > 0 THEN
      UPDATE bare_accounts SET balance = balance + p_fee, version = version + 1
       WHERE id = fee_id RETURNING balance, version INTO fee_bal, fee_ver;
      INSERT INTO bare_entries (journal_id, account_id, amount, balance_after, account_version)
        VALUES (j, fee_id, p_fee, fee_bal, fee_ver);
    END IF;
    RETURN QUERY SELECT j, from_bal, to_bal;
  END $$;`;

/** Creates the bare ledger in `db` (a pg pool): one wallet per user id holding `funding`, the fee shards at 0. */
export async function createBareLedger(db, userIds, funding) {
  await db.query(SCHEMA);
  const feeIds = Array.from({ length: FEE_SHARDS }, (_, i) => String(FEE_ID_BASE + BigInt(i)));
  await db.query(
    `INSERT INTO bare_accounts (id, is_fee, balance)
     SELECT id, is_fee, balance FROM unnest($1::bigint[], $2::boolean[], $3::bigint[]) AS t(id, is_fee, balance)`,
    [
      [...userIds, ...feeIds],
      [...userIds.map(() => false), ...feeIds.map(() => true)],
      [...userIds.map(() => String(funding)), ...feeIds.map(() => '0')],
    ],
  );
  await db.query('ANALYZE bare_accounts');
}

/** Starts the bare server child on the run's database and Redis; `poolSize` connections. */
export async function startBareLedgerServer(run, { log, poolSize, currency, feeRate }) {
  const proc = startNodeProcess('bare ledger server', [SERVER], {
    cwd: run.root,
    env: {
      ...process.env,
      DATABASE_URL: run.databaseUrl,
      POOL_SIZE: String(poolSize),
      REDIS_URL: run.redisUrl,
      ADAPTER_KEY: `${run.redisPrefix}:bare-ledger-socket.io`,
      CURRENCY: currency,
      FEE_RATE: String(feeRate),
    },
    onLine: (line) => log(`[bare] ${line}`),
  });
  const port = await proc.waitForMessage((m) => m?.port, START_TIMEOUT_MS, 'starting');
  return { proc, url: `http://127.0.0.1:${port}` };
}

/**
 * The bare ledger after the run: every journal's entries sum to zero, every account's balance is
 * its opening one plus its entries and its version counts them, and the wallets (by user id) and
 * the fee shards together moved by exactly `expected` (minor units; `feesKey` for the shards).
 */
export async function checkBareLedger(db, { funding, expected, feesKey }) {
  const { rows: problems } = await db.query(
    `SELECT 'journal ' || journal_id || ' does not balance' AS problem
       FROM bare_entries GROUP BY journal_id HAVING sum(amount) <> 0
     UNION ALL
     SELECT 'account ' || a.id || ' disagrees with its entries'
       FROM bare_accounts a
       LEFT JOIN (SELECT account_id, sum(amount) AS moved, count(*) AS n FROM bare_entries GROUP BY account_id) e
         ON e.account_id = a.id
      WHERE a.balance <> CASE WHEN a.is_fee THEN 0 ELSE $1::bigint END + coalesce(e.moved, 0)
         OR a.version <> coalesce(e.n, 0)
     LIMIT 20`,
    [String(funding)],
  );
  const { rows } = await db.query(`SELECT id, is_fee, balance FROM bare_accounts`);
  let fees = 0n;
  const balances = new Map();
  for (const row of rows) {
    if (row.is_fee) fees += BigInt(row.balance);
    else balances.set(String(row.id), BigInt(row.balance));
  }
  const wrong = [];
  for (const [key, delta] of expected) {
    const actual = key === feesKey ? fees : balances.get(key);
    const opening = key === feesKey ? 0n : funding;
    if (actual !== opening + delta) {
      wrong.push({ account: key, balance: String(actual), expected: String(opening + delta) });
    }
  }
  return { problems: problems.map((r) => r.problem), accounts: expected.size, wrongBalances: wrong };
}
