// JSON logs (pino). Secrets never reach a log line: credentials in headers, bodies and the
// `token` query parameter are redacted here, once, for every logger of the process.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type Logger } from 'pino';

const SECRET_KEYS = [
  'password',
  'password_hash',
  'passwordHash',
  'access_token',
  'refresh_token',
  'api_key',
  'apiKey',
  'token',
  'secret',
  'verification_token',
  // Verification: a request body's `code` is not listed (error codes share the name); these are.
  'otp',
  'otpauth_url',
  'secret_enc',
  'body_enc',
  'code_hash',
  'token_hash',
  // Partners: webhook secrets (a list per partner).
  'secrets',
  'webhook_secrets',
  'webhookSecrets',
];
// At the top level and up to two levels down (pino's wildcards match one level each).
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-signature"]',
  'res.headers["set-cookie"]',
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
];

export function createRootLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'cashier', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  });
}

const TRACE_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** The request's trace id: a well-formed incoming X-Request-Id, else 16 random hex digits. */
export function assignTraceId(req: IncomingMessage & { id?: unknown }, res: ServerResponse): string {
  if (typeof req.id === 'string') return req.id;
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && TRACE_ID.test(incoming) ? incoming : randomBytes(8).toString('hex');
  req.id = id;
  res.setHeader('X-Trace-Id', id);
  return id;
}

/** A URL with the values of credential-bearing query parameters replaced. */
export function redactUrl(url: string | undefined): string | undefined {
  if (!url || !url.includes('?')) return url;
  return url.replace(/([?&](?:token|access_token|api_key|apiKey)=)[^&#]*/gi, '$1[redacted]');
}
