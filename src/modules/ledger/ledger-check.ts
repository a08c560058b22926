// The ledger's invariants, verified over the whole database (admin check, and after every
// integration and e2e test). Plain SQL over any connection, so tests run exactly this.

export interface LedgerCheckReport {
  balanced: boolean;
  currencies: Record<string, { debits: string; credits: string }>;
  accounts_checked: number;
  journals_checked: number;
  problems: string[];
}

/** Anything that runs a query and returns rows. */
export type RunQuery = <T>(text: string, params?: unknown[]) => Promise<T[]>;

const LIMIT = 20;

export async function checkLedger(query: RunQuery): Promise<LedgerCheckReport> {
  const problems: string[] = [];
  const note = (rows: { problem: string }[]) => problems.push(...rows.map((r) => r.problem));

  // Every journal has entries and nets to zero in each of its currencies.
  note(
    await query<{ problem: string }>(
      `SELECT 'journal ' || j.id || ' has no entries' AS problem
         FROM journals j WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.journal_id = j.id) LIMIT ${LIMIT}`,
    ),
  );
  note(
    await query<{ problem: string }>(
      `SELECT 'journal ' || journal_id || ' does not balance in ' || currency AS problem
         FROM entries GROUP BY journal_id, currency
       HAVING sum(CASE direction WHEN 'CR' THEN amount ELSE -amount END) <> 0 LIMIT ${LIMIT}`,
    ),
  );
  // Per currency, all entries sum to zero.
  const totals = await query<{ currency: string; debits: string; credits: string }>(
    `SELECT currency, coalesce(sum(amount) FILTER (WHERE direction = 'DR'), 0)::text AS debits,
            coalesce(sum(amount) FILTER (WHERE direction = 'CR'), 0)::text AS credits
       FROM entries GROUP BY currency ORDER BY currency`,
  );
  for (const t of totals) {
    if (t.debits !== t.credits) problems.push(`${t.currency} debits ${t.debits} <> credits ${t.credits}`);
  }
  // Each account: balance = credits - debits = last balance_after; versions (entries and hold
  // changes) run 1..version without gaps; pending_debit and pending_credit = what its held DR and
  // CR holds still set aside;
  // wallets never below zero.
  note(
    await query<{ problem: string }>(
      `WITH changes AS (
         SELECT account_id, account_version AS v FROM entries
         UNION ALL SELECT account_id, placed_version FROM holds
         UNION ALL SELECT account_id, released_version FROM holds WHERE released_version IS NOT NULL
       ), versions AS (
         SELECT account_id, count(*) AS n, count(DISTINCT v) AS distinct_n, min(v) AS lo, max(v) AS hi
           FROM changes GROUP BY account_id
       ), sums AS (
         SELECT account_id, sum(CASE direction WHEN 'CR' THEN amount ELSE -amount END) AS net FROM entries GROUP BY account_id
       ), last_entry AS (
         SELECT DISTINCT ON (account_id) account_id, balance_after FROM entries ORDER BY account_id, account_version DESC
       ), held AS (
         SELECT account_id, sum(remaining) FILTER (WHERE direction = 'DR') AS debit,
                sum(remaining) FILTER (WHERE direction = 'CR') AS credit
           FROM holds WHERE status = 'held' GROUP BY account_id
       )
       SELECT 'account ' || a.account_number || ': ' || CASE
                WHEN a.balance <> coalesce(s.net, 0) THEN 'balance ' || a.balance || ' <> credits - debits ' || coalesce(s.net, 0)
                WHEN a.balance <> coalesce(l.balance_after, 0) THEN 'balance ' || a.balance || ' <> last balance_after ' || l.balance_after
                WHEN a.version <> coalesce(v.hi, 0) OR coalesce(v.n, 0) <> a.version OR v.distinct_n <> v.n OR coalesce(v.lo, 1) <> 1
                  THEN 'versions do not run 1..' || a.version
                WHEN a.pending_debit <> coalesce(h.debit, 0) THEN 'pending_debit ' || a.pending_debit || ' <> held DR ' || coalesce(h.debit, 0)
                WHEN a.pending_credit <> coalesce(h.credit, 0) THEN 'pending_credit ' || a.pending_credit || ' <> held CR ' || coalesce(h.credit, 0)
                ELSE 'available balance ' || (a.balance - a.pending_debit) || ' is negative'
              END AS problem
         FROM accounts a
         LEFT JOIN sums s ON s.account_id = a.id
         LEFT JOIN last_entry l ON l.account_id = a.id
         LEFT JOIN versions v ON v.account_id = a.id
         LEFT JOIN held h ON h.account_id = a.id
        WHERE a.balance <> coalesce(s.net, 0)
           OR a.balance <> coalesce(l.balance_after, 0)
           OR a.version <> coalesce(v.hi, 0) OR coalesce(v.n, 0) <> a.version OR v.distinct_n <> v.n OR coalesce(v.lo, 1) <> 1
           OR a.pending_debit <> coalesce(h.debit, 0) OR a.pending_credit <> coalesce(h.credit, 0)
           OR (a.kind = 'user_wallet' AND a.balance - a.pending_debit < 0)
        LIMIT ${LIMIT}`,
    ),
  );
  // Each entry's balance_after is the account's previous one moved by the entry (the code computes
  // it under the account lock; this proves every one of them, not only the last).
  note(
    await query<{ problem: string }>(
      `SELECT 'account ' || account_id || ': entry ' || id || ' says balance_after ' || balance_after
              || ', the previous entry and its amount give ' || expected AS problem
         FROM (SELECT id, account_id, balance_after,
                      coalesce(lag(balance_after) OVER w, 0) + CASE direction WHEN 'CR' THEN amount ELSE -amount END AS expected
                 FROM entries WINDOW w AS (PARTITION BY account_id ORDER BY account_version)) e
        WHERE balance_after <> expected LIMIT ${LIMIT}`,
    ),
  );
  const [counts] = await query<{ accounts: string; journals: string }>(
    `SELECT (SELECT count(*) FROM accounts)::text AS accounts, (SELECT count(*) FROM journals)::text AS journals`,
  );
  return {
    balanced: problems.length === 0,
    currencies: Object.fromEntries(totals.map((t) => [t.currency, { debits: t.debits, credits: t.credits }])),
    accounts_checked: Number(counts.accounts),
    journals_checked: Number(counts.journals),
    problems,
  };
}
