// Deposits and withdrawals as stored and as shown: rows, the `payment` channel's serialization,
// and the events they announce (contract section 4, seed 000).
import type { AppConfig } from '../../core/config/app-config.js';
import type { CurrencyConfig } from '../../core/config/business-config.js';
import { DomainError } from '../../core/errors/domain-error.js';
import { amountOf } from '../accounts/money-input.js';
import { toMajor } from '../../shared/money.js';

export type DepositStatus = 'pending' | 'sent_to_partner' | 'completed' | 'failed' | 'expired' | 'cancelled';
export type WithdrawalStatus = 'processing' | 'sent_to_partner' | 'completed' | 'failed';

/** Statuses a payment can still leave; the others are final. */
export const OPEN_DEPOSIT: readonly DepositStatus[] = ['pending', 'sent_to_partner'];
export const OPEN_WITHDRAWAL: readonly WithdrawalStatus[] = ['processing', 'sent_to_partner'];

export interface DepositRow {
  id: string;
  request_ref: string;
  payment_id: string;
  user_id: string;
  partner_id: string;
  service: string;
  payment_method: string | null;
  currency: string;
  amount: string;
  fee: string;
  status: DepositStatus;
  partner_reference: string | null;
  journal_id: string | null;
  receipt_code: string | null;
  error: string | null;
  expires_at: Date;
  created_at: Date;
  finished_at: Date | null;
}

export interface WithdrawalRow {
  id: string;
  request_ref: string;
  payment_id: string;
  user_id: string;
  partner_id: string | null;
  agent_id: string | null;
  service: string | null;
  destination: string;
  currency: string;
  amount: string;
  fee: string;
  agent_commission: string;
  status: WithdrawalStatus;
  partner_reference: string | null;
  journal_id: string | null;
  receipt_code: string | null;
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

/** Columns of a deposit with its journal's receipt code (`d` and `j` aliases). */
export const DEPOSIT_COLUMNS = `d.id, d.request_ref, d.payment_id, d.user_id, d.partner_id, d.service, d.payment_method,
  d.currency, d.amount, d.fee, d.status, d.partner_reference, d.journal_id, j.receipt_code, d.error, d.expires_at,
  d.created_at, d.finished_at`;
export const WITHDRAWAL_COLUMNS = `w.id, w.request_ref, w.payment_id, w.user_id, w.partner_id, w.agent_id, w.service,
  w.destination, w.currency, w.amount, w.fee, w.agent_commission, w.status, w.partner_reference, w.journal_id,
  j.receipt_code, w.error, w.created_at, w.finished_at`;

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);
const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** What a deposit and a withdrawal show alike. */
function paymentView(row: DepositRow | WithdrawalRow, decimals: number) {
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
    ...paymentView(row, decimals),
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
    ...paymentView(row, decimals),
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

/** Where a withdrawal's money goes: a partner, or an agent. */
export interface WithdrawalRoute {
  partnerId: string | null;
  service: string | null;
  agent: { id: string; name: string } | null;
}

/** withdraw_request's reply (seed 000, plus payment_id and fee). */
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
    created_at: seconds(row.created_at),
  };
}

export type DepositView = ReturnType<typeof depositView>;
export type WithdrawalView = ReturnType<typeof withdrawalView>;

export interface DepositCompletedPayload {
  transaction_ref: string;
  request_ref: string;
  payment_id: string;
  receipt_code: string;
  journal_id: number;
  amount: number;
  currency: string;
  user_balance: number;
  fee_amount: number;
  payment_method: string;
  completed_at: number;
  timestamp: number;
}

export interface DepositFailedPayload {
  transaction_ref: string;
  request_ref: string;
  payment_id: string;
  amount: number;
  currency: string;
  status: DepositStatus;
  error_message: string;
  failed_at: number;
  timestamp: number;
}

export interface WithdrawalCompletedPayload {
  request_ref: string;
  payment_id: string;
  receipt_code: string;
  journal_id: number;
  amount: number;
  currency: string;
  balance_after: number;
  fee_amount: number;
  agent_id?: string;
  agent_name?: string;
  agent_commission?: number;
  timestamp: number;
}

export interface WithdrawalFailedPayload {
  request_ref: string;
  payment_id: string;
  amount: number;
  currency: string;
  error: string;
  timestamp: number;
}

declare module '../../core/realtime/realtime.types.js' {
  interface RealtimeEventMap {
    deposit_completed: DepositCompletedPayload;
    deposit_failed: DepositFailedPayload;
    withdrawal_completed: WithdrawalCompletedPayload;
    withdrawal_failed: WithdrawalFailedPayload;
    payment: DepositView | WithdrawalView;
  }
}

export const unixSeconds = seconds;

/** A partner's webhook, as contract section 6 defines its body. */
export interface PartnerEvent {
  event_id: string;
  type: 'deposit.completed' | 'deposit.failed' | 'payout.completed' | 'payout.failed';
  request_ref: string;
  partner_reference: string;
  amount: unknown;
  currency: string;
  error?: string | null;
}

/** What a webhook did: changed a payment, or nothing (a repeat, or a payment already final). */
export type WebhookOutcome = 'applied' | 'ignored';

/** Attempts and exponential backoff of the partner jobs (PAYMENT_JOB_ATTEMPTS, PAYMENT_JOB_BACKOFF_MS). */
export const jobRetries = (config: AppConfig) => ({
  attempts: config.env.PAYMENT_JOB_ATTEMPTS,
  backoff: { type: 'exponential', delay: config.env.PAYMENT_JOB_BACKOFF_MS },
});

/** A webhook's amount and currency must be the payment's, exactly. */
export function checkAmount(
  event: PartnerEvent,
  amountMinor: string,
  currencyCode: string,
  currency: CurrencyConfig,
): void {
  if (event.currency !== currencyCode) {
    throw DomainError.validation(
      'currency',
      `currency ${String(event.currency)} does not match the payment's ${currencyCode}`,
    );
  }
  const amount = amountOf(event.amount, currency);
  if (amount !== BigInt(amountMinor)) {
    throw DomainError.validation(
      'amount',
      `amount does not match the payment's ${toMajor(BigInt(amountMinor), currency.decimals)}`,
    );
  }
}
