// One error type for everything a request can fail with: the server's error envelope (contract
// section 8: a stable `code`, a `message`, the `field` at fault) or the client's own codes.
import type { CashierErrorCode, ErrorEnvelope } from './contract.js';

export class CashierError extends Error {
  override readonly name = 'CashierError';
  /** Stable: branch on this, never on the message. */
  readonly code: CashierErrorCode;
  /** The request field at fault, when the server names one. */
  readonly field?: string;
  /** The request type that failed. */
  readonly requestType?: string;
  /** `RATE_LIMIT_EXCEEDED`: seconds until a request is accepted again. */
  readonly retryAfter?: number;
  /** Whatever else the error envelope carried. */
  readonly details: Record<string, unknown>;

  constructor(
    code: CashierErrorCode,
    message: string,
    options: { field?: string; requestType?: string; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.code = code;
    this.field = options.field;
    this.requestType = options.requestType;
    this.details = options.details ?? {};
    const retryAfter = this.details.retry_after;
    if (typeof retryAfter === 'number') this.retryAfter = retryAfter;
  }

  /** From an error envelope's `data`. */
  static fromEnvelope(data: ErrorEnvelope['data'], requestType?: string): CashierError {
    const { code, message, field, ...details } = data;
    return new CashierError(code, message, { field, requestType, details });
  }
}

export function isCashierError(error: unknown, code?: CashierErrorCode): error is CashierError {
  return error instanceof CashierError && (code === undefined || error.code === code);
}
