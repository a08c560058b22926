// The vocabulary of payments: deposits and withdrawals as stored, a partner's webhook, what a
// webhook did. Their steps are in payment-lifecycle.ts, their SQL in payment-store.ts, how they
// are shown in payment-views.ts and the events they announce in payment-events.ts.

/** A payment's table names its kind. */
export type PaymentTable = 'deposits' | 'withdrawals';

export type DepositStatus = 'pending' | 'sent_to_partner' | 'completed' | 'failed' | 'expired' | 'cancelled';
export type WithdrawalStatus = 'processing' | 'sent_to_partner' | 'completed' | 'failed';

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

export type RowOf<T extends PaymentTable> = T extends 'deposits' ? DepositRow : WithdrawalRow;
export type PaymentRow = DepositRow | WithdrawalRow;

/** One payment, by its id or by its request reference. */
export type PaymentKey = { id: string } | { requestRef: string };

/** Where a withdrawal's money goes: a partner, or an agent. */
export interface WithdrawalRoute {
  partnerId: string | null;
  service: string | null;
  agent: { id: string; name: string } | null;
}

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
