// Events the ledger and the money operations announce (contract section 4, seed 000).
export interface BalancePayload {
  account_number: string;
  currency: string;
  balance: number;
  available_balance: number;
  pending_debit: number;
  pending_credit: number;
  /** True when the change is funds locked for trading (orders). */
  trading: boolean;
  /** Grows by one with every change of the account. */
  version: number;
}

export interface TransferCompletedPayload {
  receipt_code: string;
  transaction_id: number;
  amount: number;
  currency: string;
  from_account: string;
  to_account: string;
  fee: number;
  timestamp: number;
}

export interface TransactionCompletedPayload {
  receipt_code: string;
  transaction_id: number;
  transaction_type: string;
  amount: number;
  currency: string;
  balance_after: number;
  fee: number;
  timestamp: number;
}

export interface TransactionFailedPayload {
  receipt_code: string | null;
  transaction_id: number | null;
  transaction_type: string;
  amount: number;
  currency: string;
  error: string;
  timestamp: number;
}

declare module '../../core/realtime/realtime.types.js' {
  interface RealtimeEventMap {
    balance: BalancePayload;
    transfer_completed: TransferCompletedPayload;
    transaction_completed: TransactionCompletedPayload;
    transaction_failed: TransactionFailedPayload;
  }
}
