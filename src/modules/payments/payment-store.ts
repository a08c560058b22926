// The SQL deposits and withdrawals share: reading them with their journal's receipt code, and the
// guarded change of status every step of a payment is (`... WHERE status = ANY(from)`), which
// does nothing once another step has moved the payment on.
import type { DataSource, EntityManager } from 'typeorm';
import { sql } from '../../core/database/sql.js';
import { DEPOSIT_COLUMNS, WITHDRAWAL_COLUMNS, type DepositRow, type WithdrawalRow } from './payments.types.js';

export type PaymentTable = 'deposits' | 'withdrawals';
type RowOf<T extends PaymentTable> = T extends 'deposits' ? DepositRow : WithdrawalRow;

/** The table's alias in its column list (`d.id`, `w.id`). */
const ALIAS: Record<PaymentTable, string> = { deposits: 'd', withdrawals: 'w' };
const COLUMNS: Record<PaymentTable, string> = { deposits: DEPOSIT_COLUMNS, withdrawals: WITHDRAWAL_COLUMNS };

/** `SELECT <columns> FROM <table> ... WHERE <where> <rest>`; `where` and `rest` use the alias. */
export async function selectPayments<T extends PaymentTable>(
  manager: EntityManager | DataSource,
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
  return rows;
}

/** Rows a just-run `INSERT ... RETURNING *` (given as `insert`) wrote, with the payment columns. */
export async function insertPayment<T extends PaymentTable>(
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
  return rows[0];
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
export async function transition<T extends PaymentTable>(
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
  return rows[0];
}
