import { MaxRetriesPerRequestError } from 'ioredis/built/errors/index.js';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { RolledBackAtCommit } from '../database/transactions.js';
import { asUnavailable, unavailableDependency } from './dependency-errors.js';
import { toErrorEnvelope } from '../realtime/ws-envelope.js';
import { toHttpError } from './http-exception.filter.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
const queryFailed = (driverError: Error) => new QueryFailedError('SELECT 1', [], driverError);

describe('unavailableDependency', () => {
  it.each([
    ['a refused connection to PostgreSQL', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    [
      'a server shutting down (57P01)',
      queryFailed(withCode('terminating connection due to administrator command', '57P01')),
    ],
    ['a server starting (57P03)', queryFailed(withCode('the database system is starting up', '57P03'))],
    ['a connection exception (08006)', queryFailed(withCode('connection failure', '08006'))],
    ['a lost connection', queryFailed(new Error('Connection terminated unexpectedly'))],
    ['a pool that could not connect in time', new Error('timeout exceeded when trying to connect')],
    [
      'a transaction whose pipelined statement lost the connection',
      new RolledBackAtCommit(new Error('Connection terminated unexpectedly')),
    ],
  ])('says the database for %s', (_label, error) => {
    expect(unavailableDependency(error)).toBe('database');
  });

  it.each([
    ['a command that outlived its retries', new MaxRetriesPerRequestError(20)],
    ['a command on a closed connection', new Error('Connection is closed.')],
  ])('says Redis for %s', (_label, error) => {
    expect(unavailableDependency(error)).toBe('redis');
  });

  it.each([
    ['a unique violation', queryFailed(withCode('duplicate key value', '23505'))],
    [
      'a transaction rolled back for a unique violation',
      new RolledBackAtCommit(withCode('duplicate key value', '23505')),
    ],
    ['a bigint overflow', queryFailed(withCode('value out of range for type bigint', '22003'))],
    ['a TypeError', new TypeError("Cannot read properties of null (reading 'trim')")],
    ['a string', 'boom'],
    ['null', null],
  ])('says nothing for %s (a bug, not an outage)', (_label, error) => {
    expect(unavailableDependency(error)).toBeUndefined();
    expect(asUnavailable(error)).toBeUndefined();
  });
});

describe('what clients get for an outage', () => {
  const outage = withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED');

  it('is SERVICE_UNAVAILABLE with retry_after on socket.io', () => {
    expect(toErrorEnvelope(outage).data).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'service temporarily unavailable (database), retry',
      retry_after: 1,
    });
  });

  it('is 503 SERVICE_UNAVAILABLE with retry_after over HTTP', () => {
    expect(toHttpError(outage, 'trace')).toMatchObject({
      status_code: 503,
      code: 'SERVICE_UNAVAILABLE',
      data: { retry_after: 1 },
    });
  });
});
