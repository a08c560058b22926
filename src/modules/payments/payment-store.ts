// The SQL of payments: deposits and withdrawals read with their journal's receipt code, created,
// locked, and moved by the guarded change of status every step is (`... WHERE status = ANY(from)`,
// payment-lifecycle.ts says which); the sweeps' lists; the webhook events' ledger of ids.
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { sql } from '../../core/database/sql.js';
import type { PartnerEvent, PaymentKey, PaymentTable, RowOf } from './payments.types.js';

type Manager = EntityManager | DataSource;

/** The table's alias in its column list (`d.id`, `w.id`). */
const ALIAS: Record<PaymentTable, string> = { deposits: 'd', withdrawals: 'w' };

/** Columns of a payment with its journal's receipt code (the table's alias and `j`). */
const COLUMNS: Record<PaymentTable, string> = {
  deposits: `d.id, d.request_ref, d.payment_id, d.user_id, d.partner_id, d.service, d.payment_method,
    d.currency, d.amount, d.fee, d.status, d.partner_reference, d.journal_id, j.receipt_code, d.error, d.expires_at,
    d.created_at, d.finished_at`,
  withdrawals: `w.id, w.request_ref, w.payment_id, w.user_id, w.partner_id, w.agent_id, w.service,
    w.destination, w.currency, w.amount, w.fee, w.agent_commission, w.status, w.partner_reference, w.journal_id,
    j.receipt_code, w.error, w.created_at, w.finished_at`,
};

/** `DEP-REQ-20250101-001`: the prefix, the UTC day, a number shared by deposits and withdrawals. */
const newRequestRef = (prefix: string) =>
  `'${prefix}-REQ-' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') || '-' || lpad(nextval('payment_ref_seq')::text, 3, '0')`;

/** Ids as strings, whatever the driver made of them. */
function normalized<R extends { id: string; user_id: string }>(row: R): R {
  return { ...row, id: String(row.id), user_id: String(row.user_id) };
}

/** `SELECT <columns> FROM <table> ... WHERE <where> <rest>`; `where` and `rest` use the alias. */
export async function selectPayments<T extends PaymentTable>(
  manager: Manager,
  table: T,
  where: string,
  params: unknown[],
  rest = '',
): Promise<RowOf<T>[]> {
  const a = ALIAS[table];
  const { rows } = await sql<RowOf<T>>(
    manager,
    `SELECT ${COLUMNS[table]} FROM ${table} ${a} LEFT JOIN journals j ON j.id = ${a}.journal_id WHERE ${where} ${rest}`,
    params,
  );
  return rows.map(normalized);
}

/** One payment as it is now, without a lock (a job reading what to send). */
export async function findPayment<T extends PaymentTable>(
  manager: Manager,
  table: T,
  key: PaymentKey,
): Promise<RowOf<T> | undefined> {
  const [row] = await selectPayments(manager, table, whereKey(table, key), [valueOf(key)]);
  return row;
}

/** One payment, locked for the rest of the transaction: every step starts here. */
export async function lockPayment<T extends PaymentTable>(
  tx: EntityManager,
  table: T,
  key: PaymentKey,
): Promise<RowOf<T> | undefined> {
  const [row] = await selectPayments(tx, table, whereKey(table, key), [valueOf(key)], `FOR UPDATE OF ${ALIAS[table]}`);
  return row;
}

export interface NewDeposit {
  userId: string;
  partnerId: string;
  service: string;
  paymentMethod: string | null;
  currency: string;
  amount: bigint;
  fee: bigint;
  /** It expires this many seconds from now. */
  ttlSeconds: number;
}

export async function insertDeposit(tx: EntityManager, deposit: NewDeposit): Promise<RowOf<'deposits'>> {
  return insertPayment(
    tx,
    'deposits',
    `INSERT INTO deposits (request_ref, payment_id, user_id, partner_id, service, payment_method, currency, amount, fee, expires_at)
     VALUES (${newRequestRef('DEP')}, $1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))`,
    [
      randomUUID(),
      deposit.userId,
      deposit.partnerId,
      deposit.service,
      deposit.paymentMethod,
      deposit.currency,
      deposit.amount.toString(),
      deposit.fee.toString(),
      deposit.ttlSeconds,
    ],
  );
}

export interface NewWithdrawal {
  userId: string;
  partnerId: string | null;
  agentId: string | null;
  service: string | null;
  destination: string;
  currency: string;
  amount: bigint;
  fee: bigint;
  agentCommission: bigint;
}

export async function insertWithdrawal(tx: EntityManager, withdrawal: NewWithdrawal): Promise<RowOf<'withdrawals'>> {
  return insertPayment(
    tx,
    'withdrawals',
    `INSERT INTO withdrawals (request_ref, payment_id, user_id, partner_id, agent_id, service, destination, currency,
                              amount, fee, agent_commission)
     VALUES (${newRequestRef('WDL')}, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      randomUUID(),
      withdrawal.userId,
      withdrawal.partnerId,
      withdrawal.agentId,
      withdrawal.service,
      withdrawal.destination,
      withdrawal.currency,
      withdrawal.amount.toString(),
      withdrawal.fee.toString(),
      withdrawal.agentCommission.toString(),
    ],
  );
}

export interface StatusChange {
  status: string;
  /** The payment ends here (finished_at is stamped). */
  final: boolean;
  journalId?: string;
  /** Kept as it was when not given. */
  partnerReference?: string | null;
  /** What went wrong, for a failure; cleared otherwise. */
  error?: string;
}

/** Moves the payment to `change.status` if it is still in one of `from`; undefined if not. */
export async function movePayment<T extends PaymentTable>(
  tx: EntityManager,
  table: T,
  id: string,
  from: readonly string[],
  change: StatusChange,
): Promise<RowOf<T> | undefined> {
  const a = ALIAS[table];
  const { rows } = await sql<RowOf<T>>(
    tx,
    `WITH ${a} AS (
       UPDATE ${table} SET status = $3, journal_id = coalesce($4, journal_id),
              partner_reference = coalesce($5, partner_reference), error = $6,
              finished_at = CASE WHEN $7 THEN now() END, updated_at = now()
        WHERE id = $1 AND status = ANY($2::text[]) RETURNING *
     )
     SELECT ${COLUMNS[table]} FROM ${a} LEFT JOIN journals j ON j.id = ${a}.journal_id`,
    [
      id,
      [...from],
      change.status,
      change.journalId ?? null,
      change.partnerReference ?? null,
      change.error ?? null,
      change.final,
    ],
  );
  return rows[0] && normalized(rows[0]);
}

/** Request references of deposits still in one of `open` past their expires_at (500 at a time). */
export async function expiredDeposits(db: DataSource, open: readonly string[]): Promise<string[]> {
  const { rows } = await sql<{ request_ref: string }>(
    db,
    `SELECT request_ref FROM deposits WHERE status = ANY($1::text[]) AND expires_at < now() LIMIT 500`,
    [[...open]],
  );
  return rows.map((row) => row.request_ref);
}

/**
 * Ids of payments still in `status` (the one they are created in) after 10 seconds: their job
 * should have moved them on by then, unless it was lost (500 at a time).
 */
export async function unsentPayments(db: DataSource, table: PaymentTable, status: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>(
    db,
    `SELECT id FROM ${table} WHERE status = $1 AND created_at < now() - interval '10 seconds' LIMIT 500`,
    [status],
  );
  return rows.map((row) => String(row.id));
}

/** The owner of a payment channel id (a deposit's or a withdrawal's payment_id). */
export async function ownerOfPayment(db: DataSource, paymentId: string): Promise<string | null> {
  const { rows } = await sql<{ user_id: string }>(
    db,
    `SELECT user_id FROM deposits WHERE payment_id = $1 UNION ALL SELECT user_id FROM withdrawals WHERE payment_id = $1`,
    [paymentId],
  );
  return rows[0] ? String(rows[0].user_id) : null;
}

/**
 * Records a partner event as applied; undefined when the partner sent this event_id before (a
 * concurrent copy waits on the unique index until the first commits, then finds it taken).
 */
export async function recordWebhookEvent(
  tx: EntityManager,
  partnerId: string,
  event: PartnerEvent,
): Promise<string | undefined> {
  const { rows } = await sql<{ id: string }>(
    tx,
    `INSERT INTO webhook_events (partner_id, event_id, type, request_ref, payload, outcome)
     VALUES ($1, $2, $3, $4, $5, 'applied')
     ON CONFLICT (partner_id, event_id) DO NOTHING RETURNING id`,
    [partnerId, event.event_id, event.type, event.request_ref, JSON.stringify(event)],
  );
  return rows[0] && String(rows[0].id);
}

export async function markWebhookIgnored(tx: EntityManager, webhookEventId: string): Promise<void> {
  await sql(tx, `UPDATE webhook_events SET outcome = 'ignored' WHERE id = $1`, [webhookEventId]);
}

/** Rows a just-run `INSERT ... RETURNING *` (given as `insert`) wrote, with the payment columns. */
async function insertPayment<T extends PaymentTable>(
  tx: EntityManager,
  table: T,
  insert: string,
  params: unknown[],
): Promise<RowOf<T>> {
  const a = ALIAS[table];
  const { rows } = await sql<RowOf<T>>(
    tx,
    `WITH ${a} AS (${insert} RETURNING *) SELECT ${COLUMNS[table]} FROM ${a} LEFT JOIN journals j ON j.id = ${a}.journal_id`,
    params,
  );
  return normalized(rows[0]);
}

const whereKey = (table: PaymentTable, key: PaymentKey) =>
  'id' in key ? `${ALIAS[table]}.id = $1` : `${ALIAS[table]}.request_ref = $1`;
const valueOf = (key: PaymentKey) => ('id' in key ? key.id : key.requestRef);
