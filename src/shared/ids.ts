// Random identifiers and secrets (CSPRNG only).
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export const newUuid = (): string => randomUUID();

/** A user's private channel id: 128 random bits as 32 hex digits. */
export const newChannelId = (): string => randomBytes(16).toString('hex');

/** An opaque secret token of `bytes` random bytes, base64url. */
export const newSecretToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

export const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Constant-time comparison of two strings (false when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

const ROW_ID_MAX = 9223372036854775807n; // PostgreSQL bigint

/** A row id as a decimal string: a positive integer that fits PostgreSQL's bigint. */
export function isRowId(value: unknown): value is string {
  return typeof value === 'string' && /^[1-9]\d{0,18}$/.test(value) && BigInt(value) <= ROW_ID_MAX;
}
