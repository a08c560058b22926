import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors/domain-error.js';
import { errorEnvelope, isRequestResult, successEnvelope, toErrorEnvelope } from './ws-envelope.js';

describe('the envelope of seed 000', () => {
  it('wraps a result as success with a Unix-seconds timestamp', () => {
    const envelope = successEnvelope({ message: 'accounts retrieved', data: { count: 0 } });
    expect(envelope).toEqual({
      type: 'success',
      data: { message: 'accounts retrieved', data: { count: 0 } },
      timestamp: expect.any(Number),
    });
    expect(Math.abs(envelope.timestamp - Date.now() / 1000)).toBeLessThan(2);
  });

  it('carries the code, the field and extra data of a domain error', () => {
    expect(toErrorEnvelope(DomainError.validation('amount', 'amount must be greater than zero'))).toMatchObject({
      type: 'error',
      data: { code: 'VALIDATION_FAILED', field: 'amount', message: 'amount must be greater than zero' },
    });
    expect(
      toErrorEnvelope(new DomainError('RATE_LIMIT_EXCEEDED', 'slow down', { data: { retry_after: 12 } })).data,
    ).toEqual({ code: 'RATE_LIMIT_EXCEEDED', message: 'slow down', retry_after: 12 });
  });

  it('says nothing of the inside for unknown failures', () => {
    expect(toErrorEnvelope(new Error('connection string postgres://secret')).data).toEqual({
      code: 'INTERNAL',
      message: 'internal error',
    });
  });

  it('never lets extra data overwrite the code or the message', () => {
    expect(errorEnvelope('INVALID_REQUEST', 'bad', { code: 'X', message: 'Y' }).data).toEqual({
      code: 'INVALID_REQUEST',
      message: 'bad',
    });
  });

  it('recognises a handler result', () => {
    expect(isRequestResult({ message: 'ok', data: null })).toBe(true);
    expect(isRequestResult({ message: 'ok' })).toBe(false);
    expect(isRequestResult('ok')).toBe(false);
  });
});
