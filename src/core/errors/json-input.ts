// What every transport answers for JSON text the service refuses before parsing it (see
// shared/json-guard.ts): too deep → INVALID_REQUEST; a number no double holds exactly →
// VALIDATION_FAILED naming the field.
import { inspectJson } from '../../shared/json-guard.js';
import { DomainError } from './domain-error.js';

/** The refusal of `text` (from `start`), or undefined when it may be parsed. */
export function refuseJsonText(text: string, start = 0): DomainError | undefined {
  const problem = inspectJson(text, start);
  if (!problem) return undefined;
  if (problem.kind === 'depth') return new DomainError('INVALID_REQUEST', problem.message);
  return new DomainError('VALIDATION_FAILED', problem.message, problem.field ? { field: problem.field } : {});
}

/** The answer to a frame that is not JSON, or not what the protocol expects. */
export const invalidRequestFormat = (detail?: string): DomainError =>
  new DomainError('INVALID_REQUEST', detail ? `invalid request format: ${detail}` : 'invalid request format');

/**
 * Thrown from the HTTP body parser's `verify` hook: body-parser forwards it (with a writable
 * `status`, which it sets) to the error middleware, which answers with `refusal`.
 */
export class JsonInputError extends Error {
  status = 400;

  constructor(readonly refusal: DomainError) {
    super(refusal.message);
    this.name = 'JsonInputError';
  }
}
