// Stable error codes (contract section 8, plus the HTTP-only ones), each with its HTTP status.
export const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  AUTHENTICATION_FAILED: 401,
  FORBIDDEN: 403,
  ACCOUNT_LOCKED: 403,
  VERIFICATION_REQUIRED: 403,
  VERIFICATION_INVALID: 403,
  NOT_FOUND: 404,
  ACCOUNT_NOT_FOUND: 404,
  NO_ACCOUNTS: 404,
  TRANSACTION_NOT_FOUND: 404,
  SUBSCRIPTION_FAILED: 404,
  CONFLICT: 409,
  IDEMPOTENCY_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  INSUFFICIENT_BALANCE: 422,
  RATE_LIMIT_EXCEEDED: 429,
  CONNECTION_LIMIT: 429,
  INTERNAL: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}
