// The one error type of the application: a stable code, a message for the client, and optional
// details. Transports (the HTTP filter, the socket.io filter) turn it into their envelope.
import { ERROR_STATUS, type ErrorCode } from './error-codes.js';

export interface DomainErrorDetails {
  /** The request field at fault, for validation-type errors. */
  field?: string;
  /** Extra machine-readable data (e.g. `retry_after`). */
  data?: Record<string, unknown>;
}

export class DomainError extends Error {
  readonly field?: string;
  readonly data?: Record<string, unknown>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    details: DomainErrorDetails = {},
  ) {
    super(message);
    this.name = 'DomainError';
    this.field = details.field;
    this.data = details.data;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  static validation(field: string, message: string): DomainError {
    return new DomainError('VALIDATION_FAILED', message, { field });
  }

  static unauthorized(message = 'Invalid or expired token'): DomainError {
    return new DomainError('UNAUTHORIZED', message);
  }
}
