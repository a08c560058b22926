// Every HTTP failure leaves as {status_code, message, code, trace_id, data} (the shape of seed 001).
// Unknown failures are logged with their trace id and answered as INTERNAL without internals.
import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { asUnavailable } from './dependency-errors.js';
import { DomainError } from './domain-error.js';
import { ERROR_STATUS, type ErrorCode } from './error-codes.js';
import { JsonInputError } from './json-input.js';

export interface HttpErrorBody {
  status_code: number;
  message: string;
  code: ErrorCode;
  trace_id: string;
  data: Record<string, unknown> | null;
}

const CODE_FOR_STATUS: Record<number, ErrorCode> = {
  400: 'INVALID_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMIT_EXCEEDED',
  503: 'SERVICE_UNAVAILABLE',
};

/**
 * Errors raised by body-parser before routing carry a `type` and a `status`, except that a body
 * which cannot be decompressed (Content-Encoding gzip, deflate or br that is not) is zlib's error
 * with only the `status` and http-errors' `expose` mark of a client error.
 */
interface BodyParserError {
  type?: string;
  status: number;
  expose?: boolean;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as BodyParserError).status === 'number' &&
    (typeof (error as BodyParserError).type === 'string' || (error as BodyParserError).expose === true)
  );
}

export function traceIdOf(request: Request): string {
  const id = (request as Request & { id?: unknown }).id;
  return typeof id === 'string' ? id : 'unknown';
}

export function errorBody(
  traceId: string,
  status: number,
  code: ErrorCode,
  message: string,
  data: Record<string, unknown> | null = null,
): HttpErrorBody {
  return { status_code: status, message, code, trace_id: traceId, data };
}

/** Maps anything thrown to the status and body of the response. */
export function toHttpError(error: unknown, traceId: string): HttpErrorBody {
  const body = (status: number, code: ErrorCode, message: string, data: Record<string, unknown> | null = null) =>
    errorBody(traceId, status, code, message, data);
  if (error instanceof JsonInputError) error = error.refusal;
  if (!(error instanceof DomainError)) error = asUnavailable(error) ?? error;
  if (error instanceof DomainError) {
    const data = error.field || error.data ? { ...(error.field ? { field: error.field } : {}), ...error.data } : null;
    return body(error.status, error.code, error.message, data);
  }
  if (isBodyParserError(error)) {
    if (error.type === 'entity.too.large') return body(413, 'PAYLOAD_TOO_LARGE', 'request body is too large');
    if (error.type === 'entity.parse.failed') return body(400, 'INVALID_REQUEST', 'invalid request format');
    if (error.status >= 400 && error.status < 500) {
      return body(error.status, 'INVALID_REQUEST', 'invalid request format');
    }
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = CODE_FOR_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'INVALID_REQUEST');
    const message =
      status === 401
        ? 'Invalid or expired token'
        : status >= 500
          ? 'internal error'
          : error.message || 'request failed';
    return body(status, code, message);
  }
  return body(ERROR_STATUS.INTERNAL, 'INTERNAL', 'internal error');
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const result = toHttpError(error, traceIdOf(request));
    if (result.code === 'SERVICE_UNAVAILABLE') {
      this.logger.warn({ err: error, trace_id: result.trace_id }, 'request failed: a dependency is unavailable');
    } else if (result.status_code >= 500) {
      this.logger.error({ err: error, trace_id: result.trace_id }, 'unhandled error');
    }
    if (response.headersSent) return;
    if (typeof result.data?.retry_after === 'number') {
      response.setHeader('Retry-After', String(result.data.retry_after));
    }
    response.status(result.status_code).json(result);
  }
}
