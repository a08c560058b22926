// The events payments announce on the user channel and the payment channel (contract section 4,
// seed 000): their payloads (the `payment` event's are the views of payment-views.ts).
// payment-events.ts builds them.
import type { DepositView, WithdrawalView } from './payment-views.js';
import type { DepositStatus } from './payments.types.js';

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
