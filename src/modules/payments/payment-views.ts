// How deposits and withdrawals are shown: the `payment` channel's serialization (also what
// get_deposit_status, get_history and the admin list show), and the replies that create them.
import type { CurrencyConfig } from '../../core/config/business-config.js';
import type { Partner } from '../partners/partners.types.js';
import { toMajor } from '../../shared/money.js';
import type {
  DepositRow,
  DepositStatus,
  PaymentTable,
  RowOf,
  WithdrawalRoute,
  WithdrawalRow,
  WithdrawalStatus,
} from './payments.types.js';

/** Unix seconds, as events and withdraw_request's reply count time. */
export const unixSeconds = (date: Date) => Math.floor(date.getTime() / 1000);
const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** What a deposit and a withdrawal show alike. */
function commonView(row: DepositRow | WithdrawalRow, decimals: number) {
  return {
    id: Number(row.id),
    request_ref: row.request_ref,
    payment_id: row.payment_id,
    status: row.status,
    amount: toMajor(BigInt(row.amount), decimals),
    fee: toMajor(BigInt(row.fee), decimals),
    currency: row.currency,
    receipt_code: row.receipt_code,
    journal_id: row.journal_id === null ? null : Number(row.journal_id),
    error: row.error,
    created_at: iso(row.created_at),
    completed_at: row.status === 'completed' ? iso(row.finished_at) : null,
    finished_at: iso(row.finished_at),
  };
}

/** A deposit as get_deposit_status, get_history and the `payment` channel show it. */
export function depositView(row: DepositRow, decimals: number) {
  return {
    ...commonView(row, decimals),
    kind: 'deposit' as const,
    status: row.status,
    partner_id: row.partner_id,
    service: row.service,
    payment_method: row.payment_method,
    expires_at: iso(row.expires_at),
  };
}

export function withdrawalView(row: WithdrawalRow, decimals: number) {
  return {
    ...commonView(row, decimals),
    kind: 'withdrawal' as const,
    status: row.status,
    withdrawal_type: row.agent_id ? ('agent_assisted' as const) : ('direct' as const),
    partner_id: row.partner_id,
    agent_id: row.agent_id,
    service: row.service,
    destination: row.destination,
    agent_commission: toMajor(BigInt(row.agent_commission), decimals),
  };
}

export type DepositView = ReturnType<typeof depositView>;
export type WithdrawalView = ReturnType<typeof withdrawalView>;

/** A payment of either kind, as its table says. */
export function paymentView<T extends PaymentTable>(table: T, row: RowOf<T>, decimals: number) {
  return table === 'deposits'
    ? depositView(row as DepositRow, decimals)
    : withdrawalView(row as WithdrawalRow, decimals);
}

/** deposit_request's reply (seed 000, plus payment_id). */
export interface DepositCreated {
  request_ref: string;
  payment_id: string;
  partner_id: string;
  partner_name: string;
  amount: number;
  fee: number;
  currency: string;
  status: DepositStatus;
  expires_at: string;
  created_at: string;
}

export function depositCreatedView(row: DepositRow, currency: CurrencyConfig, partner: Partner): DepositCreated {
  const major = (value: string) => toMajor(BigInt(value), currency.decimals);
  return {
    request_ref: row.request_ref,
    payment_id: row.payment_id,
    partner_id: partner.id,
    partner_name: partner.name,
    amount: major(row.amount),
    fee: major(row.fee),
    currency: currency.code,
    status: row.status,
    expires_at: row.expires_at.toISOString(),
    created_at: row.created_at.toISOString(),
  };
}

/** withdraw_request's reply (seed 000, plus payment_id and fee). */
export interface WithdrawalCreated {
  request_ref: string;
  payment_id: string;
  amount: number;
  fee: number;
  currency: string;
  destination: string;
  status: WithdrawalStatus;
  withdrawal_type: 'direct' | 'agent_assisted';
  partner_id?: string;
  agent_id?: string;
  agent_name?: string;
  agent_account?: string;
  agent_commission?: number;
  created_at: number;
}

export function withdrawalCreatedView(
  row: WithdrawalRow,
  currency: CurrencyConfig,
  route: WithdrawalRoute,
  agentAccount: string | null,
): WithdrawalCreated {
  const major = (value: string) => toMajor(BigInt(value), currency.decimals);
  return {
    request_ref: row.request_ref,
    payment_id: row.payment_id,
    amount: major(row.amount),
    fee: major(row.fee),
    currency: currency.code,
    destination: row.destination,
    status: row.status,
    withdrawal_type: route.agent ? 'agent_assisted' : 'direct',
    ...(route.partnerId ? { partner_id: route.partnerId } : {}),
    ...(route.agent
      ? {
          agent_id: route.agent.id,
          agent_name: route.agent.name,
          agent_account: agentAccount ?? undefined,
          agent_commission: major(row.agent_commission),
        }
      : {}),
    created_at: unixSeconds(row.created_at),
  };
}
