// Failures that mean a dependency (PostgreSQL, Redis) is unreachable rather than that the request
// or the code is wrong. Clients get SERVICE_UNAVAILABLE with `retry_after`: nothing was changed
// (a transaction that lost its connection rolls back), so retrying, with the same idempotency key
// for money requests, is safe.
import { QueryFailedError } from 'typeorm';
import { RolledBackAtCommit } from '../database/transactions.js';
import { DomainError } from './domain-error.js';

export type Dependency = 'database' | 'redis';

/** Seconds a client is told to wait before retrying. */
export const RETRY_AFTER_S = 1;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

// PostgreSQL SQLSTATEs: class 08 (connection exception), 57P01-57P03 (server shutting down or
// starting), 53300 (too many connections).
const isUnavailableState = (code: string) =>
  code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';

const PG_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Connection terminated unexpectedly',
];

// ioredis: a command on a closed connection, or one that waited through its reconnect attempts.
const REDIS_MESSAGES = ['Connection is closed', 'Reached the max retries per request limit', "Stream isn't writeable"];

function codeOf(error: object): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Which dependency `error` says is unreachable, if any. */
export function unavailableDependency(error: unknown): Dependency | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  // A transaction that could not commit because one of its statements lost the connection.
  if (error instanceof RolledBackAtCommit) return unavailableDependency(error.cause);
  const cause = error instanceof QueryFailedError ? (error.driverError as object) : error;
  const code = codeOf(cause);
  const message = cause instanceof Error ? cause.message : '';
  const name = cause instanceof Error ? cause.constructor.name : '';
  if (name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((m) => message.includes(m))) return 'redis';
  if (code && isUnavailableState(code)) return 'database';
  // A refused or broken TCP connection outside ioredis (which retries those itself): pg.
  if (code && NETWORK_CODES.has(code)) return 'database';
  if (PG_MESSAGES.some((m) => message.includes(m))) return 'database';
  return undefined;
}

export function serviceUnavailable(dependency: Dependency): DomainError {
  return new DomainError('SERVICE_UNAVAILABLE', `service temporarily unavailable (${dependency}), retry`, {
    data: { retry_after: RETRY_AFTER_S },
  });
}

/** `error` as the DomainError a client gets, when it is a dependency failure; else undefined. */
export function asUnavailable(error: unknown): DomainError | undefined {
  const dependency = unavailableDependency(error);
  return dependency ? serviceUnavailable(dependency) : undefined;
}
