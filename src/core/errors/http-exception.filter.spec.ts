import {
  type ArgumentsHost,
  BadRequestException,
  ForbiddenException,
  HttpException,
  NotFoundException,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { DomainError } from './domain-error.js';
import { errorBody, type HttpErrorBody, HttpExceptionFilter, toHttpError } from './http-exception.filter.js';

const TRACE = 'trace-0123456789';
const BODY_KEYS = ['code', 'data', 'message', 'status_code', 'trace_id'];

function expectEnvelope(body: HttpErrorBody): void {
  expect(Object.keys(body).sort()).toEqual(BODY_KEYS);
  expect(body.trace_id).toBe(TRACE);
}

describe('errorBody', () => {
  it('builds the envelope with data defaulting to null', () => {
    expect(errorBody(TRACE, 404, 'NOT_FOUND', 'no such account')).toEqual({
      status_code: 404,
      message: 'no such account',
      code: 'NOT_FOUND',
      trace_id: TRACE,
      data: null,
    });
  });

  it('keeps the data it is given', () => {
    expect(errorBody(TRACE, 429, 'RATE_LIMIT_EXCEEDED', 'slow down', { retry_after: 3 }).data).toEqual({
      retry_after: 3,
    });
  });
});

describe('toHttpError', () => {
  describe('DomainError', () => {
    it('maps a validation error to 400 with the field in data', () => {
      const body = toHttpError(
        new DomainError('VALIDATION_FAILED', 'email must be an email address', { field: 'email' }),
        TRACE,
      );
      expectEnvelope(body);
      expect(body).toEqual({
        status_code: 400,
        message: 'email must be an email address',
        code: 'VALIDATION_FAILED',
        trace_id: TRACE,
        data: { field: 'email' },
      });
    });

    it('maps a rate-limit error to 429 with retry_after in data', () => {
      const body = toHttpError(
        new DomainError('RATE_LIMIT_EXCEEDED', 'too many requests', { data: { retry_after: 3 } }),
        TRACE,
      );
      expectEnvelope(body);
      expect(body.status_code).toBe(429);
      expect(body.code).toBe('RATE_LIMIT_EXCEEDED');
      expect(body.data).toEqual({ retry_after: 3 });
    });

    it('merges field and data', () => {
      const body = toHttpError(
        new DomainError('INSUFFICIENT_BALANCE', 'not enough funds', { field: 'amount', data: { available: '1.00' } }),
        TRACE,
      );
      expect(body.status_code).toBe(422);
      expect(body.data).toEqual({ field: 'amount', available: '1.00' });
    });

    it('answers data null when there is neither field nor data', () => {
      const body = toHttpError(new DomainError('NOT_FOUND', 'no such transaction'), TRACE);
      expectEnvelope(body);
      expect(body).toMatchObject({ status_code: 404, code: 'NOT_FOUND', message: 'no such transaction', data: null });
    });

    it('keeps the message of a domain 5xx (it is written for the client)', () => {
      const body = toHttpError(new DomainError('SERVICE_UNAVAILABLE', 'partner is down'), TRACE);
      expect(body).toMatchObject({ status_code: 503, code: 'SERVICE_UNAVAILABLE', message: 'partner is down' });
    });
  });

  describe('body-parser errors', () => {
    it('maps a JSON parse failure to 400 INVALID_REQUEST without echoing the parser message', () => {
      const error = Object.assign(new SyntaxError('Unexpected token } in JSON at position 7'), {
        type: 'entity.parse.failed',
        status: 400,
      });
      const body = toHttpError(error, TRACE);
      expectEnvelope(body);
      expect(body).toMatchObject({
        status_code: 400,
        code: 'INVALID_REQUEST',
        message: 'invalid request format',
        data: null,
      });
      expect(JSON.stringify(body)).not.toContain('Unexpected token');
    });

    it('maps a too-large body to 413 PAYLOAD_TOO_LARGE', () => {
      const body = toHttpError({ type: 'entity.too.large', status: 413 }, TRACE);
      expectEnvelope(body);
      expect(body).toMatchObject({ status_code: 413, code: 'PAYLOAD_TOO_LARGE', data: null });
    });

    it('keeps the status of another 4xx body-parser error', () => {
      const body = toHttpError({ type: 'encoding.unsupported', status: 415 }, TRACE);
      expect(body).toMatchObject({ status_code: 415, code: 'INVALID_REQUEST', message: 'invalid request format' });
    });

    it('maps a body that cannot be decompressed to 400 INVALID_REQUEST', () => {
      // What body-parser hands on for `Content-Encoding: gzip` on a body that is not gzip.
      const error = Object.assign(new Error('incorrect header check'), {
        errno: -3,
        code: 'Z_DATA_ERROR',
        expose: true,
        statusCode: 400,
        status: 400,
      });
      const body = toHttpError(error, TRACE);
      expectEnvelope(body);
      expect(body).toMatchObject({ status_code: 400, code: 'INVALID_REQUEST', message: 'invalid request format' });
    });
  });

  describe('Nest HttpException', () => {
    it('maps NotFoundException to 404 NOT_FOUND', () => {
      const body = toHttpError(new NotFoundException(), TRACE);
      expectEnvelope(body);
      expect(body).toMatchObject({ status_code: 404, code: 'NOT_FOUND', data: null });
    });

    it('maps UnauthorizedException to 401 with a fixed message', () => {
      const body = toHttpError(new UnauthorizedException('jwt malformed'), TRACE);
      expectEnvelope(body);
      expect(body).toMatchObject({
        status_code: 401,
        code: 'UNAUTHORIZED',
        message: 'Invalid or expired token',
        data: null,
      });
    });

    it('maps ForbiddenException to 403 FORBIDDEN', () => {
      const body = toHttpError(new ForbiddenException(), TRACE);
      expectEnvelope(body);
      expect(body).toMatchObject({ status_code: 403, code: 'FORBIDDEN' });
    });

    it('keeps the message of a 4xx exception', () => {
      const body = toHttpError(new BadRequestException('amount is required'), TRACE);
      expect(body).toMatchObject({ status_code: 400, code: 'INVALID_REQUEST', message: 'amount is required' });
    });

    it('maps an unlisted 4xx status to INVALID_REQUEST', () => {
      const body = toHttpError(new HttpException('teapot', 418), TRACE);
      expect(body).toMatchObject({ status_code: 418, code: 'INVALID_REQUEST' });
    });

    it('hides the message of a 5xx exception', () => {
      const body = toHttpError(new HttpException('db pool exhausted', 500), TRACE);
      expect(body).toMatchObject({ status_code: 500, code: 'INTERNAL', message: 'internal error' });
      expect(toHttpError(new ServiceUnavailableException('redis down'), TRACE)).toMatchObject({
        status_code: 503,
        code: 'SERVICE_UNAVAILABLE',
        message: 'internal error',
      });
    });
  });

  describe('anything else', () => {
    it('answers 500 INTERNAL without internals', () => {
      const body = toHttpError(new Error('secret internals'), TRACE);
      expectEnvelope(body);
      expect(body).toEqual({
        status_code: 500,
        message: 'internal error',
        code: 'INTERNAL',
        trace_id: TRACE,
        data: null,
      });
      expect(JSON.stringify(body)).not.toContain('secret internals');
    });

    it.each([
      ['a string', 'boom'],
      ['null', null],
      ['undefined', undefined],
      ['a plain object', { message: 'secret internals' }],
    ])('answers 500 INTERNAL for %s', (_label, thrown) => {
      const body = toHttpError(thrown, TRACE);
      expectEnvelope(body);
      expect(body).toMatchObject({ status_code: 500, code: 'INTERNAL', message: 'internal error', data: null });
    });
  });
});

class FakeResponse {
  headersSent = false;
  statusCode: number | undefined;
  body: unknown;
  readonly headers: Record<string, string> = {};

  status(code: number): this {
    this.statusCode = code;
    return this;
  }

  json(body: unknown): this {
    this.body = body;
    return this;
  }

  setHeader(name: string, value: string): this {
    this.headers[name] = value;
    return this;
  }
}

function fakeHost(request: object, response: FakeResponse): ArgumentsHost {
  const http = { getRequest: () => request, getResponse: () => response, getNext: () => undefined };
  return { switchToHttp: () => http } as unknown as ArgumentsHost;
}

describe('HttpExceptionFilter.catch', () => {
  const filter = new HttpExceptionFilter();

  it('answers with the status and the envelope, using the request trace id', () => {
    const response = new FakeResponse();
    filter.catch(new NotFoundException(), fakeHost({ id: TRACE }, response));
    expect(response.statusCode).toBe(404);
    expect(response.body).toEqual(toHttpError(new NotFoundException(), TRACE));
    expect(response.headers).toEqual({});
  });

  it('uses "unknown" as trace id when the request has none', () => {
    const response = new FakeResponse();
    filter.catch(new ForbiddenException(), fakeHost({}, response));
    expect(response.statusCode).toBe(403);
    expect((response.body as HttpErrorBody).trace_id).toBe('unknown');
  });

  it('sets Retry-After for a rate-limit error', () => {
    const response = new FakeResponse();
    const error = new DomainError('RATE_LIMIT_EXCEEDED', 'too many requests', { data: { retry_after: 3 } });
    filter.catch(error, fakeHost({ id: TRACE }, response));
    expect(response.statusCode).toBe(429);
    expect(response.headers).toEqual({ 'Retry-After': '3' });
    expect((response.body as HttpErrorBody).data).toEqual({ retry_after: 3 });
  });

  it('sets no Retry-After when the rate-limit error carries no retry_after', () => {
    const response = new FakeResponse();
    filter.catch(new DomainError('RATE_LIMIT_EXCEEDED', 'too many requests'), fakeHost({ id: TRACE }, response));
    expect(response.statusCode).toBe(429);
    expect(response.headers).toEqual({});
  });

  it('does nothing when the headers were already sent', () => {
    const response = new FakeResponse();
    response.headersSent = true;
    const error = new DomainError('RATE_LIMIT_EXCEEDED', 'too many requests', { data: { retry_after: 3 } });
    filter.catch(error, fakeHost({ id: TRACE }, response));
    expect(response.statusCode).toBeUndefined();
    expect(response.body).toBeUndefined();
    expect(response.headers).toEqual({});
  });
});
