// The request/response envelope of seed 000, used on every socket.io request.
import { asUnavailable } from '../errors/dependency-errors.js';
import { DomainError } from '../errors/domain-error.js';
import type { ErrorCode } from '../errors/error-codes.js';

/** What a request handler returns: a human message and the data. */
export interface RequestResult<T = unknown> {
  message: string;
  data: T;
}

export interface SuccessEnvelope<T = unknown> {
  type: 'success';
  data: { message: string; data: T };
  timestamp: number;
}

export interface ErrorEnvelope {
  type: 'error';
  data: { message: string; code: ErrorCode; field?: string; [extra: string]: unknown };
  timestamp: number;
}

const now = () => Math.floor(Date.now() / 1000);

export function successEnvelope<T>(result: RequestResult<T>): SuccessEnvelope<T> {
  return { type: 'success', data: { message: result.message, data: result.data }, timestamp: now() };
}

export function errorEnvelope(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): ErrorEnvelope {
  return { type: 'error', data: { ...extra, message, code }, timestamp: now() };
}

/** Maps anything thrown by a handler to an error envelope; unknown failures say nothing inside. */
export function toErrorEnvelope(thrown: unknown): ErrorEnvelope {
  const error = thrown instanceof DomainError ? thrown : (asUnavailable(thrown) ?? thrown);
  if (error instanceof DomainError) {
    return errorEnvelope(error.code, error.message, { ...(error.field ? { field: error.field } : {}), ...error.data });
  }
  return errorEnvelope('INTERNAL', 'internal error');
}

export function isRequestResult(value: unknown): value is RequestResult {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RequestResult).message === 'string' &&
    'data' in value
  );
}
